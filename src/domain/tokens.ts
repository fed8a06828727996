import { TenureError } from './errors.js';

/**
 * What a token may be used for, on top of what its owner may do: `read` (GET routes), `write`
 * (routes that change state, minting a token among them) and `check` (the decision point). A token
 * never exceeds its owner, nor its parent.
 */
export const TOKEN_SCOPES = ['read', 'write', 'check'] as const;
export type TokenScope = (typeof TOKEN_SCOPES)[number];

export const DEFAULT_TOKEN_TTL_MS = 90 * 24 * 3_600_000;
export const MAX_TOKEN_TTL_MS = 365 * 24 * 3_600_000;

/**
 * Who may hold (list, revoke) a token for `subject`: the identity itself, or the human owner of a
 * service account (automation's tokens are managed by the person accountable for it).
 * Administrators are checked separately by permission.
 */
export const managesTokensOf = (subject: { id: string; kind: string; ownerId: string | null }, actorId: string): boolean =>
  subject.id === actorId || (subject.kind === 'service_account' && subject.ownerId === actorId);

/**
 * Who may mint a token for `subject`. A person's token (employee, contractor, vendor operator) is
 * minted only by that person: a person's token minted by anyone else is an impersonation
 * credential, with which one human acts, approves and is audited as another. Minting for others
 * (the service account's owner, or `token.manage_any`) is kept for service accounts only, where
 * the minter is recorded as the token's issuer on everything done with it. So nothing lets one
 * human act as another.
 */
export const mayMintTokenFor = (
  subject: { id: string; kind: string; ownerId: string | null }, actorId: string, managesAny: boolean,
): boolean => {
  if (subject.id === actorId) return true;
  return subject.kind === 'service_account' && (subject.ownerId === actorId || managesAny);
};

/**
 * Whether a stored token may be honoured for its subject: a person's token created by someone else
 * (possible before minting-for-persons was refused, or written into the database directly) is not.
 */
export const isImpersonationToken = (subject: { id: string; kind: string }, createdBy: string | null): boolean =>
  subject.kind !== 'service_account' && createdBy !== subject.id;

/** The token a caller authenticated with, as far as it bounds a token minted through it. */
export interface ParentToken { scopes: readonly string[]; expiresAt: Date; mfa: boolean; mfaAt: Date | null }

/**
 * Whether a new token carries MFA (`api_tokens.mfa`, the `mfa` context Tenure's proxies present):
 * only a token for the minter themselves, minted with a credential their own MFA sign-in stands
 * behind (through a token: that token's `mfa`, never more; from a web session: its sign-in's).
 * A token minted for someone else, which is a service account's, never carries it: the minter's
 * MFA proves that the minter was there, not whoever or whatever will use the account's token.
 */
export const tokenCarriesMfa = (subjectId: string, minterId: string, parent: ParentToken | undefined, minterMfa: boolean): boolean =>
  subjectId === minterId && (parent ? parent.mfa : minterMfa);

/**
 * When the MFA a new token carries was performed: its source's time, never a newer one (minting
 * is not an MFA). Null when it carries none, or its source's time is unknown (older records).
 */
export const tokenMfaAt = (carries: boolean, parent: ParentToken | undefined, minterMfaAt: Date | undefined): Date | null =>
  !carries ? null : parent ? parent.mfaAt : minterMfaAt ?? null;

/**
 * The scopes and expiry of a token minted through `parent` (Vault's token tree): its scopes must
 * be a subset of the parent's and it may not outlive it. An explicit `expiresIn` beyond the
 * parent's end is refused rather than silently shortened; without one, the default lifetime is
 * cut to the parent's end, since the caller asked for nothing in particular.
 */
export const boundByParent = (
  parent: ParentToken | undefined, scopes: readonly TokenScope[], now: Date, requestedTtlMs: number | undefined,
): Date => {
  const wanted = new Date(now.getTime() + (requestedTtlMs ?? DEFAULT_TOKEN_TTL_MS));
  if (!parent) return wanted;
  const exceeding = scopes.filter((scope) => !parent.scopes.includes(scope));
  if (exceeding.length > 0) {
    throw new TenureError('token.scope_exceeds_parent',
      `scopes: ${exceeding.join(', ')} not held by the token this request was made with (it has ${parent.scopes.join(', ')})`, { field: 'scopes' });
  }
  if (wanted <= parent.expiresAt) return wanted;
  if (requestedTtlMs === undefined) return parent.expiresAt;
  throw new TenureError('token.outlives_parent',
    `expiresIn: would end after the token this request was made with, which ends at ${parent.expiresAt.toISOString()}`, { field: 'expiresIn' });
};
