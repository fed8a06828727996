import { readFileSync } from 'node:fs';
import { parseDuration } from '../domain/durations.js';
import { TenureError } from '../domain/errors.js';

/**
 * The OIDC variables as the environment gives them. Reading the environment never fails and never
 * opens the secret file: every CLI command loads the configuration, and only the HTTP service needs
 * these, so they are checked (and the file read) when the service starts (see resolveOidcConfig).
 */
export interface OidcSettings {
  issuer: string;
  clientId: string | undefined;
  clientSecret: string | undefined;
  clientSecretFile: string | undefined;
  sessionTtl: string | undefined;
  allowHttp: boolean;
  /** TENURE_OIDC_MFA_ACR: the `acr` values, comma-separated, that this provider gives only to sign-ins with MFA. */
  mfaAcr: string | undefined;
  /** `${TENURE_PUBLIC_URL}/auth/callback`: registered at the provider as the one redirect URI. */
  redirectUri: string;
}

/** Web sign-in through an OpenID provider, checked; see docs/authentication.md. */
export interface OidcConfig {
  issuer: URL;
  clientId: string;
  clientSecret: string;
  redirectUri: string;
  sessionTtlMs: number;
  /** An http:// issuer is accepted only when TENURE_OIDC_ALLOW_HTTP=1 says so (local providers, tests). */
  allowHttp: boolean;
  /** `acr` values that mean the sign-in used MFA (see domain/sign-in-mfa.ts); `amr` needs no setting. */
  mfaAcrValues: string[];
}

export const DEFAULT_SESSION_TTL_MS = 12 * 3_600_000;
/** A session cookie is a bearer credential: a day's work or a month at most, never open-ended. */
export const MAX_SESSION_TTL_MS = 30 * 24 * 3_600_000;

const misconfigured = (variable: string, rule: string) =>
  new TenureError('input.invalid', `${variable}: ${rule}`, { field: variable });

const required = (value: string | undefined, variable: string): string => {
  if (!value) throw misconfigured(variable, 'must be set when TENURE_OIDC_ISSUER is');
  return value;
};

/** The client secret from the environment or, better for secret stores, from a file (trimmed). */
const clientSecretFrom = (settings: OidcSettings): string => {
  if (!settings.clientSecretFile) return required(settings.clientSecret, 'TENURE_OIDC_CLIENT_SECRET');
  let secret: string;
  try {
    secret = readFileSync(settings.clientSecretFile, 'utf8').trim();
  } catch {
    throw misconfigured('TENURE_OIDC_CLIENT_SECRET_FILE', 'the file cannot be read');
  }
  if (!secret) throw misconfigured('TENURE_OIDC_CLIENT_SECRET_FILE', 'the file is empty');
  return secret;
};

export const sessionTtlFrom = (value: string | undefined): number => {
  if (!value) return DEFAULT_SESSION_TTL_MS;
  const parsed = parseDuration(value);
  if ('rule' in parsed || parsed.ms > MAX_SESSION_TTL_MS) {
    throw misconfigured('TENURE_SESSION_TTL', 'must be a positive duration with a unit of at most 30d, such as 8h or 12h');
  }
  return parsed.ms;
};

const issuerFrom = (value: string, allowHttp: boolean): URL => {
  let issuer: URL;
  try {
    issuer = new URL(value);
  } catch {
    throw misconfigured('TENURE_OIDC_ISSUER', 'must be a URL');
  }
  if (issuer.protocol !== 'https:' && !(issuer.protocol === 'http:' && allowHttp)) {
    throw misconfigured('TENURE_OIDC_ISSUER', 'must be https:// (set TENURE_OIDC_ALLOW_HTTP=1 for a local http provider)');
  }
  return issuer;
};

/** Undefined when no issuer is configured: the /auth routes then answer auth.oidc_not_configured. */
export const readOidcSettings = (env: NodeJS.ProcessEnv, publicUrl: string): OidcSettings | undefined => {
  const issuer = env.TENURE_OIDC_ISSUER?.trim();
  if (!issuer) return undefined;
  return {
    issuer, clientId: env.TENURE_OIDC_CLIENT_ID?.trim() || undefined, clientSecret: env.TENURE_OIDC_CLIENT_SECRET?.trim() || undefined,
    clientSecretFile: env.TENURE_OIDC_CLIENT_SECRET_FILE || undefined, sessionTtl: env.TENURE_SESSION_TTL || undefined,
    allowHttp: env.TENURE_OIDC_ALLOW_HTTP === '1', mfaAcr: env.TENURE_OIDC_MFA_ACR || undefined, redirectUri: `${publicUrl}/auth/callback`,
  };
};

/** Checks the settings and reads the secret: a mistake stops the service at start-up, naming the variable. */
export const resolveOidcConfig = (settings: OidcSettings): OidcConfig => ({
  issuer: issuerFrom(settings.issuer, settings.allowHttp),
  clientId: required(settings.clientId, 'TENURE_OIDC_CLIENT_ID'),
  clientSecret: clientSecretFrom(settings),
  redirectUri: settings.redirectUri,
  sessionTtlMs: sessionTtlFrom(settings.sessionTtl),
  allowHttp: settings.allowHttp,
  mfaAcrValues: (settings.mfaAcr ?? '').split(',').map((value) => value.trim()).filter((value) => value !== ''),
});
