import { and, gt, inArray, isNull } from 'drizzle-orm';
import { apiTokens, sessions } from '../../../store/schema-service.js';
import type { Work } from '../../../work/context.js';
import { reasonFor, type Why } from './end-access.js';
import { revokeDescendants } from './revoke-descendants.js';

/**
 * Revokes every live API token and ends every live web session of the identities, one audit event
 * each, within the caller's transaction (`why` of each identity's id says why). Authentication also
 * refuses an identity that is not active; this makes the end permanent, so reactivating the
 * identity does not bring old credentials back. Tokens minted with a revoked token are revoked with
 * it (the token tree).
 */
export const endCredentialsOf = async (work: Work, identityIds: readonly string[], why: Why<string>) => {
  const tokens = await work.tx.update(apiTokens).set({ revokedAt: work.now, revokedBy: work.actor.id ?? null })
    .where(and(inArray(apiTokens.identityId, [...identityIds]), isNull(apiTokens.revokedAt), gt(apiTokens.expiresAt, work.now)))
    .returning({ id: apiTokens.id, identityId: apiTokens.identityId });
  for (const token of tokens) {
    work.record({ action: 'token.revoked', subject: { type: 'token', id: token.id }, identityId: token.identityId,
      before: { revokedAt: null }, after: { revokedAt: work.now }, reason: reasonFor(why, token.identityId) });
  }
  // Tokens minted with these (a service account's, minted by this person with their token) go too.
  const holderOf = new Map(tokens.map((token) => [token.id, token.identityId]));
  await revokeDescendants(work, tokens.map((token) => token.id), (tokenId) => reasonFor(why, holderOf.get(tokenId)!));
  const ended = await work.tx.update(sessions).set({ revokedAt: work.now })
    .where(and(inArray(sessions.identityId, [...identityIds]), isNull(sessions.revokedAt), gt(sessions.expiresAt, work.now)))
    .returning({ id: sessions.id, identityId: sessions.identityId });
  for (const session of ended) {
    work.record({ action: 'session.ended', subject: { type: 'session', id: session.id }, identityId: session.identityId,
      before: { revokedAt: null }, after: { revokedAt: work.now }, reason: reasonFor(why, session.identityId) });
  }
  return { tokens: tokens.length, sessions: ended.length };
};
