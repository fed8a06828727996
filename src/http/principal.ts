import { and, eq, isNull, lt, or, sql } from 'drizzle-orm';
import { TenureError } from '../domain/errors.js';
import type { TokenScope } from '../domain/tokens.js';
import { hashSecret, looksLikeSecret } from '../operations/lib/secrets.js';
import type { Store } from '../store/database.js';
import { apiTokens, sessions } from '../store/schema-service.js';
import { identities } from '../store/schema.js';

/** Who is calling: always an identity of Tenure's own database, through a token or a web session. */
export interface Principal {
  identityId: string;
  channel: 'api' | 'web';
  scopes: readonly TokenScope[];
  tokenId?: string;
  sessionId?: string;
  /** When the token or session stops working regardless of anything else. */
  expiresAt: Date;
}

export const SESSION_COOKIE = 'tenure_session';
const WEB_SCOPES: readonly TokenScope[] = ['read', 'write'];
/** last_used_at is refreshed at most this often, so reads do not turn into a write each. */
const LAST_USED_GRANULARITY_MS = 60_000;

const invalid = () => new TenureError('auth.invalid_credentials', 'the token or session is not valid');

/**
 * Resolves a bearer token. Unknown, expired and revoked tokens, and tokens of an identity that is no
 * longer active, are refused alike and at once: status is read on every request, never cached, so a
 * suspension or termination takes effect on the next call.
 */
export const authenticateToken = async (store: Store, secret: string, now: Date): Promise<Principal> => {
  if (!looksLikeSecret(secret, 'tnr')) throw invalid();
  const [row] = await store.db.select({ id: apiTokens.id, identityId: apiTokens.identityId, scopes: apiTokens.scopes,
    expiresAt: apiTokens.expiresAt, revokedAt: apiTokens.revokedAt, lastUsedAt: apiTokens.lastUsedAt, status: identities.status })
    .from(apiTokens).innerJoin(identities, eq(identities.id, apiTokens.identityId))
    .where(eq(apiTokens.secretHash, hashSecret(secret)));
  if (!row || row.revokedAt || row.expiresAt <= now || row.status !== 'active') throw invalid();
  if (!row.lastUsedAt || now.getTime() - row.lastUsedAt.getTime() > LAST_USED_GRANULARITY_MS) {
    await store.db.update(apiTokens).set({ lastUsedAt: now }).where(and(eq(apiTokens.id, row.id),
      or(isNull(apiTokens.lastUsedAt), lt(apiTokens.lastUsedAt, sql`${now.toISOString()}::timestamptz - interval '1 minute'`))));
  }
  return { identityId: row.identityId, channel: 'api', scopes: row.scopes as TokenScope[], tokenId: row.id, expiresAt: row.expiresAt };
};

/** Resolves a web session cookie, with the same rules as a token: ended, expired or inactive owner is refused. */
export const authenticateSession = async (store: Store, secret: string, now: Date): Promise<Principal> => {
  if (!looksLikeSecret(secret, 'tns')) throw invalid();
  const [row] = await store.db.select({ id: sessions.id, identityId: sessions.identityId, expiresAt: sessions.expiresAt,
    revokedAt: sessions.revokedAt, status: identities.status })
    .from(sessions).innerJoin(identities, eq(identities.id, sessions.identityId))
    .where(eq(sessions.secretHash, hashSecret(secret)));
  if (!row || row.revokedAt || row.expiresAt <= now || row.status !== 'active') throw invalid();
  return { identityId: row.identityId, channel: 'web', scopes: WEB_SCOPES, sessionId: row.id, expiresAt: row.expiresAt };
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
