import { and, inArray, isNull } from 'drizzle-orm';
import { apiTokens } from '../../../store/schema-service.js';
import type { Work } from '../../../work/context.js';
import { reasonFor, type Why } from './end-access.js';

/**
 * Revokes every live token below `tokenIds` in the token tree, one audit event each, within the
 * caller's transaction: revoking a token revokes what was minted with it. Level by level, each
 * UPDATE reading afresh, so a child committed while this runs is still caught on the next level;
 * authentication refuses a token with a revoked ancestor besides (see principal.ts). A child is
 * revoked for the reason its root was (`why` of the root's id).
 */
export const revokeDescendants = async (work: Work, tokenIds: readonly string[], why: Why<string>): Promise<number> => {
  const reasons = new Map(tokenIds.map((id) => [id, reasonFor(why, id)]));
  let level = [...tokenIds];
  let revoked = 0;
  while (level.length > 0) {
    const children = await work.tx.update(apiTokens).set({ revokedAt: work.now, revokedBy: work.actor.id ?? null })
      .where(and(inArray(apiTokens.parentTokenId, level), isNull(apiTokens.revokedAt)))
      .returning({ id: apiTokens.id, identityId: apiTokens.identityId, parentTokenId: apiTokens.parentTokenId });
    for (const child of children) {
      const reason = reasons.get(child.parentTokenId!)!;
      reasons.set(child.id, reason);
      work.record({ action: 'token.revoked', subject: { type: 'token', id: child.id }, identityId: child.identityId,
        before: { revokedAt: null }, after: { revokedAt: work.now, parentTokenId: child.parentTokenId }, reason });
    }
    revoked += children.length;
    level = children.map((child) => child.id);
  }
  return revoked;
};
