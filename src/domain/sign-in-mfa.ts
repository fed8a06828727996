/**
 * Whether a sign-in at the OpenID provider used more than one factor, from what its validated ID
 * token says: the `amr` claim (Authentication Method Reference values, RFC 8176) and the `acr`
 * claim (a provider-defined level, matched against the values the deployment names in
 * TENURE_OIDC_MFA_ACR). Pure; the answer is recorded on the web session and inherited by the
 * credentials minted from it (tokens, SSH certificates), which Tenure's own proxies present to the
 * decision point as the `mfa` context.
 */

/** The RFC 8176 methods by the factor they prove; `mfa` itself says "more than one factor". */
const FACTOR_OF: Readonly<Record<string, 'knowledge' | 'possession' | 'inherence'>> = {
  pwd: 'knowledge', pin: 'knowledge', kba: 'knowledge',
  otp: 'possession', hwk: 'possession', swk: 'possession', sc: 'possession', sms: 'possession', tel: 'possession', pop: 'possession',
  fpt: 'inherence', face: 'inherence', iris: 'inherence', retina: 'inherence', vbm: 'inherence',
};

/** At most this many `amr` values are kept (for the audit event): a hostile provider cannot bloat it. */
const MAX_AMR_VALUES = 16;

export interface SignInAssurance {
  mfa: boolean;
  /** Why, for the audit event: `amr:mfa`, `amr:factors`, `acr`, or `none`. */
  basis: 'amr:mfa' | 'amr:factors' | 'acr' | 'none';
  /** The `amr` values as given (short tokens only), and `acr` when it was a string. */
  amr: string[];
  acr: string | undefined;
  /** The ID token's `auth_time` (ms): when the person last authenticated at the provider, which may be long before this sign-in. */
  authTime: number | undefined;
}

/** Only short plain tokens: what a provider puts in `amr` ends up in the audit log. */
const amrValues = (claim: unknown): string[] => Array.isArray(claim)
  ? claim.filter((v): v is string => typeof v === 'string' && /^[A-Za-z0-9_.:-]{1,40}$/.test(v)).slice(0, MAX_AMR_VALUES)
  : [];

/**
 * MFA when `amr` contains `mfa`, or methods of two different factors (`pwd` and `otp`, `hwk` and
 * `fpt`); or when `acr` is one of `mfaAcrValues`. One method alone is one factor, whatever it is:
 * `otp` or `hwk` without a second factor is a single possession factor, `mca` (several channels) and
 * `user` (presence) prove no second factor, and values outside RFC 8176 count for nothing.
 */
export const signInAssurance = (claims: { amr?: unknown; acr?: unknown; auth_time?: unknown }, mfaAcrValues: readonly string[]): SignInAssurance => {
  const amr = amrValues(claims.amr);
  const acr = typeof claims.acr === 'string' && claims.acr.length <= 200 ? claims.acr : undefined;
  const factors = new Set(amr.map((method) => FACTOR_OF[method]).filter((f) => f !== undefined));
  const basis: SignInAssurance['basis'] = amr.includes('mfa') ? 'amr:mfa'
    : factors.size >= 2 ? 'amr:factors'
      : acr !== undefined && mfaAcrValues.includes(acr) ? 'acr' : 'none';
  const authTime = typeof claims.auth_time === 'number' && Number.isFinite(claims.auth_time) && claims.auth_time > 0
    ? claims.auth_time * 1000 : undefined;
  return { mfa: basis !== 'none', basis, amr, acr, authTime };
};

/**
 * When the MFA behind a sign-in at `signedInAt` was performed: the provider's `auth_time` when it
 * gives one (a single sign-on session reused hours after its MFA is that old, not new), never later
 * than the sign-in itself; the sign-in's own time when the provider does not say. Null without MFA.
 */
export const mfaPerformedAt = (assurance: Pick<SignInAssurance, 'mfa' | 'authTime'>, signedInAt: Date): Date | null => {
  if (!assurance.mfa) return null;
  return new Date(Math.min(assurance.authTime ?? signedInAt.getTime(), signedInAt.getTime()));
};
