import { and, eq, gt, isNull } from 'drizzle-orm';
import { apiTokens, sessions } from '../../../store/schema-service.js';
import type { Work } from '../../../work/context.js';
import { revokeDescendants } from './revoke-descendants.js';

/**
 * Revokes every live API token and ends every live web session of an identity, one audit event
 * each, within the caller's transaction. Authentication also refuses an identity that is not active;
 * this makes the end permanent, so reactivating the identity does not bring old credentials back.
 * Tokens minted with a revoked token are revoked with it (the token tree).
 */
export const endCredentialsOf = async (work: Work, identityId: string, reason: string) => {
  const tokens = await work.tx.update(apiTokens).set({ revokedAt: work.now, revokedBy: work.actor.id ?? null })
    .where(and(eq(apiTokens.identityId, identityId), isNull(apiTokens.revokedAt), gt(apiTokens.expiresAt, work.now)))
    .returning({ id: apiTokens.id });
  for (const token of tokens) {
    work.record({ action: 'token.revoked', subject: { type: 'token', id: token.id }, identityId,
      before: { revokedAt: null }, after: { revokedAt: work.now }, reason });
  }
  // Tokens minted with these (a service account's, minted by this person with their token) go too.
  await revokeDescendants(work, tokens.map((token) => token.id), reason);
  const ended = await work.tx.update(sessions).set({ revokedAt: work.now })
    .where(and(eq(sessions.identityId, identityId), isNull(sessions.revokedAt), gt(sessions.expiresAt, work.now)))
    .returning({ id: sessions.id });
  for (const session of ended) {
    work.record({ action: 'session.ended', subject: { type: 'session', id: session.id }, identityId,
      before: { revokedAt: null }, after: { revokedAt: work.now }, reason });
  }
  return { tokens: tokens.length, sessions: ended.length };
};
