import * as oidc from 'openid-client';
import { TenureError } from '../domain/errors.js';
import { signInAssurance, type SignInAssurance } from '../domain/sign-in-mfa.js';
import type { OidcConfig } from './oidc-config.js';

/** What must come back unchanged through the provider for a sign-in to complete. */
export interface SignInChecks { state: string; nonce: string; codeVerifier: string }

/** The provider's account, as its validated ID token (or, for email, its UserInfo) states it. */
export interface ProviderAccount {
  issuer: string;
  subject: string;
  email: string | undefined;
  emailVerified: boolean;
  /** Whether the sign-in used MFA, from the ID token's `amr` and `acr` (never from UserInfo: only the ID token is bound to this sign-in). */
  assurance: SignInAssurance;
}

/** The two calls Tenure makes to an OpenID provider; operations depend on this, not on openid-client. */
export interface OidcClient {
  /** Fresh state, nonce and PKCE verifier, and the provider's authorization URL that carries them. */
  begin(): Promise<{ url: URL; checks: SignInChecks }>;
  /** Exchanges the callback's code (with PKCE) and validates the ID token: issuer, audience, nonce, expiry. */
  identify(callbackUrl: URL, checks: SignInChecks): Promise<ProviderAccount>;
}

/**
 * A refused sign-in. The browser gets the stable code and a generic message only; `reason` (a short
 * token such as `unknown_state` or an OAuth error code, never a credential) is for the server log.
 */
export const signInFailure = (code: 'auth.sign_in_invalid' | 'auth.sign_in_refused', reason: string): TenureError =>
  new TenureError(code, code === 'auth.sign_in_invalid'
    ? 'the sign-in could not be completed; start again'
    : 'this account cannot sign in to Tenure; ask an administrator', { details: { reason } });

export const reasonOf = (error: unknown): string | undefined => {
  const details = error instanceof TenureError ? error.details as { reason?: unknown } | undefined : undefined;
  return typeof details?.reason === 'string' ? details.reason : undefined;
};

const SCOPE = 'openid email';

/** fetch failed, timed out or was aborted: the provider did not answer, which is not the user's doing. */
const isUnreachable = (error: unknown): boolean => error instanceof Error
  && ((error instanceof TypeError && error.message === 'fetch failed') || error.name === 'AbortError' || error.name === 'TimeoutError');

const unreachable = (what: string) =>
  new TenureError('service.not_ready', `the OpenID provider did not answer (${what}); try again shortly`, { details: { reason: `provider_unreachable:${what}` } });

/** An error's OAuth or library code, which names what failed without echoing any value. */
const codeOf = (error: unknown): string => {
  const e = error as { error?: unknown; code?: unknown; name?: unknown };
  const code = typeof e.error === 'string' ? e.error : typeof e.code === 'string' ? e.code : String(e.name ?? 'error');
  return code.replace(/[^A-Za-z0-9_.:-]/g, '').slice(0, 80);
};

const emailOf = async (configuration: oidc.Configuration, tokens: oidc.TokenEndpointResponse, claims: oidc.IDToken) => {
  if (typeof claims.email === 'string') return { email: claims.email, verified: claims.email_verified === true };
  // Providers that follow the OpenID Connect Core rule for the code flow put scope claims in UserInfo only.
  const info = await oidc.fetchUserInfo(configuration, tokens.access_token, claims.sub);
  return { email: typeof info.email === 'string' ? info.email : undefined, verified: info.email_verified === true };
};

/** The ID token's `amr`, `acr` and `auth_time` as given; openid-client types them loosely, signInAssurance checks them. */
const assuranceOf = (claims: oidc.IDToken, mfaAcrValues: readonly string[]) => {
  const { amr, acr, auth_time } = claims as unknown as { amr?: unknown; acr?: unknown; auth_time?: unknown };
  return signInAssurance({ amr, acr, auth_time }, mfaAcrValues);
};

/**
 * The provider's metadata is discovered on first use and kept for the life of the process; a failed
 * discovery is not kept, so the next sign-in tries again. The client authenticates with
 * client_secret_basic, the OAuth default every provider supports.
 */
export const createOidcClient = (config: OidcConfig): OidcClient => {
  let discovered: Promise<oidc.Configuration> | undefined;
  const configuration = (): Promise<oidc.Configuration> => {
    discovered ??= oidc.discovery(config.issuer, config.clientId, undefined, oidc.ClientSecretBasic(config.clientSecret),
      config.allowHttp ? { execute: [oidc.allowInsecureRequests] } : undefined)
      .catch((error: unknown) => {
        discovered = undefined;
        throw isUnreachable(error) ? unreachable('discovery') : new TenureError('service.not_ready',
          'the OpenID provider\'s discovery document is not usable', { details: { reason: `discovery:${codeOf(error)}` } });
      });
    return discovered;
  };

  const begin: OidcClient['begin'] = async () => {
    const configured = await configuration();
    const checks = { state: oidc.randomState(), nonce: oidc.randomNonce(), codeVerifier: oidc.randomPKCECodeVerifier() };
    const url = oidc.buildAuthorizationUrl(configured, {
      redirect_uri: config.redirectUri, scope: SCOPE, state: checks.state, nonce: checks.nonce,
      code_challenge: await oidc.calculatePKCECodeChallenge(checks.codeVerifier), code_challenge_method: 'S256',
    });
    return { url, checks };
  };

  const identify: OidcClient['identify'] = async (callbackUrl, checks) => {
    const configured = await configuration();
    try {
      const tokens = await oidc.authorizationCodeGrant(configured, callbackUrl,
        { pkceCodeVerifier: checks.codeVerifier, expectedState: checks.state, expectedNonce: checks.nonce, idTokenExpected: true });
      const claims = tokens.claims()!;
      const { email, verified } = await emailOf(configured, tokens, claims);
      return { issuer: claims.iss, subject: claims.sub, email, emailVerified: verified, assurance: assuranceOf(claims, config.mfaAcrValues) };
    } catch (error) {
      if (isUnreachable(error)) throw unreachable('token');
      throw signInFailure('auth.sign_in_invalid', `provider:${codeOf(error)}`);
    }
  };

  return { begin, identify };
};
