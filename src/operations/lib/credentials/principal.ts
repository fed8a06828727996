import { and, eq, isNull, lt, or, sql } from 'drizzle-orm';
import { TenureError } from '../../../domain/errors.js';
import { isImpersonationToken, type TokenScope } from '../../../domain/tokens.js';
import { hashSecret, looksLikeSecret } from './secrets.js';
import { rawRows, type Store } from '../../../store/database.js';
import { apiTokens, sessions } from '../../../store/schema-service.js';
import { identities } from '../../../store/schema.js';

/** Who is calling: always an identity of Tenure's own database, through a token or a web session. */
export interface Principal {
  identityId: string;
  channel: 'api' | 'web';
  scopes: readonly TokenScope[];
  tokenId?: string;
  /**
   * Who minted the token, when not the identity itself (a service account's token, minted by its
   * owner or IAM): the nearest creator up the token tree who is someone else. Acting through the
   * token is recorded with it (Actor.issuedBy), so the rules see both parties.
   */
  issuedBy?: string;
  sessionId?: string;
  /**
   * The identity's own sign-in behind this credential used MFA (the web session's, or the one the
   * token was minted from); see domain/sign-in-mfa.ts. Absent means no.
   */
  mfa?: true;
  /** When that MFA was performed (what a condition's `mfa_max_age` measures); absent when unknown. */
  mfaAt?: Date;
  /** When the token or session stops working regardless of anything else. */
  expiresAt: Date;
}

export const SESSION_COOKIE = 'tenure_session';
const WEB_SCOPES: readonly TokenScope[] = ['read', 'write'];
/** last_used_at is refreshed at most this often, so reads do not turn into a write each. */
const LAST_USED_GRANULARITY_MS = 60_000;

const mfaOf = (row: { mfa: boolean; mfaAt: Date | null }): Pick<Principal, 'mfa' | 'mfaAt'> =>
  !row.mfa ? {} : row.mfaAt ? { mfa: true, mfaAt: row.mfaAt } : { mfa: true };

const invalid = () => new TenureError('auth.invalid_credentials', 'the token or session is not valid');

/** A token tree deeper than this is refused: minting never builds one, so it can only be forged. */
const MAX_TOKEN_DEPTH = 32;

interface Ancestry { dead: boolean; complete: boolean; issuedBy: string | undefined }

/**
 * Walks a token's ancestors in one query (only for a child token: roots, the common case, cost
 * nothing more). Any revoked or expired ancestor makes the token dead, whether or not the cascade
 * at revocation reached it; a chain too deep to finish is treated as dead too.
 */
const ancestryOf = async (store: Store, parentId: string, subjectId: string, now: Date): Promise<Ancestry> => {
  const rows = await rawRows<{ created_by: string | null; dead: boolean; parent_token_id: string | null }>(store.db, sql`
    WITH RECURSIVE chain AS (
      SELECT id, parent_token_id, created_by, revoked_at, expires_at, 1 AS depth FROM api_tokens WHERE id = ${parentId}
      UNION ALL
      SELECT t.id, t.parent_token_id, t.created_by, t.revoked_at, t.expires_at, chain.depth + 1
        FROM api_tokens t JOIN chain ON t.id = chain.parent_token_id WHERE chain.depth < ${MAX_TOKEN_DEPTH}
    )
    SELECT created_by, (revoked_at IS NOT NULL OR expires_at <= ${now.toISOString()}::timestamptz) AS dead, parent_token_id
      FROM chain ORDER BY depth`);
  const last = rows.at(-1);
  return {
    dead: rows.some((row) => row.dead),
    complete: last !== undefined && last.parent_token_id === null,
    issuedBy: rows.find((row) => row.created_by !== null && row.created_by !== subjectId)?.created_by ?? undefined,
  };
};

/**
 * Resolves a bearer token. Unknown, expired and revoked tokens, tokens of an identity that is no
 * longer active, tokens with a revoked or expired ancestor, and a person's token created by someone
 * else (an impersonation credential, see mayMintTokenFor) are refused alike and at once: status is
 * read on every request, never cached, so a suspension or termination takes effect on the next call.
 */
export const authenticateToken = async (store: Store, secret: string, now: Date): Promise<Principal> => {
  if (!looksLikeSecret(secret, 'tnr')) throw invalid();
  const [row] = await store.db.select({ id: apiTokens.id, identityId: apiTokens.identityId, scopes: apiTokens.scopes,
    expiresAt: apiTokens.expiresAt, revokedAt: apiTokens.revokedAt, lastUsedAt: apiTokens.lastUsedAt, createdBy: apiTokens.createdBy,
    parentTokenId: apiTokens.parentTokenId, mfa: apiTokens.mfa, mfaAt: apiTokens.mfaAt, status: identities.status, kind: identities.kind })
    .from(apiTokens).innerJoin(identities, eq(identities.id, apiTokens.identityId))
    .where(eq(apiTokens.secretHash, hashSecret(secret)));
  if (!row || row.revokedAt || row.expiresAt <= now || row.status !== 'active') throw invalid();
  if (isImpersonationToken({ id: row.identityId, kind: row.kind }, row.createdBy)) throw invalid();
  let issuedBy = row.createdBy !== row.identityId ? row.createdBy ?? undefined : undefined;
  if (row.parentTokenId) {
    const ancestry = await ancestryOf(store, row.parentTokenId, row.identityId, now);
    if (ancestry.dead || !ancestry.complete) throw invalid();
    issuedBy ??= ancestry.issuedBy;
  }
  if (!row.lastUsedAt || now.getTime() - row.lastUsedAt.getTime() > LAST_USED_GRANULARITY_MS) {
    await store.db.update(apiTokens).set({ lastUsedAt: now }).where(and(eq(apiTokens.id, row.id),
      or(isNull(apiTokens.lastUsedAt), lt(apiTokens.lastUsedAt, sql`${now.toISOString()}::timestamptz - interval '1 minute'`))));
  }
  return {
    identityId: row.identityId, channel: 'api', scopes: row.scopes, tokenId: row.id, expiresAt: row.expiresAt,
    ...(issuedBy ? { issuedBy } : {}), ...mfaOf(row),
  };
};

/** Resolves a web session cookie, with the same rules as a token: ended, expired or inactive owner is refused. */
export const authenticateSession = async (store: Store, secret: string, now: Date): Promise<Principal> => {
  if (!looksLikeSecret(secret, 'tns')) throw invalid();
  const [row] = await store.db.select({ id: sessions.id, identityId: sessions.identityId, expiresAt: sessions.expiresAt,
    revokedAt: sessions.revokedAt, mfa: sessions.mfa, mfaAt: sessions.mfaAt, status: identities.status })
    .from(sessions).innerJoin(identities, eq(identities.id, sessions.identityId))
    .where(eq(sessions.secretHash, hashSecret(secret)));
  if (!row || row.revokedAt || row.expiresAt <= now || row.status !== 'active') throw invalid();
  return { identityId: row.identityId, channel: 'web', scopes: WEB_SCOPES, sessionId: row.id, expiresAt: row.expiresAt,
    ...mfaOf(row) };
};

/** Reads the credentials of a request: `Authorization: Bearer tnr_…` first, then the session cookie. */
export const authenticate = async (
  store: Store, now: Date, authorization: string | undefined, sessionCookie: string | undefined,
): Promise<Principal> => {
  if (authorization !== undefined) {
    const match = /^Bearer\s+(\S+)$/i.exec(authorization);
    if (!match) throw invalid();
    return authenticateToken(store, match[1]!, now);
  }
  if (sessionCookie) return authenticateSession(store, sessionCookie, now);
  throw new TenureError('auth.required', 'sign in, or send Authorization: Bearer <token>');
};
