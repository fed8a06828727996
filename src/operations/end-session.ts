import { and, eq, gt, isNull } from 'drizzle-orm';
import { sessions } from '../store/schema-service.js';
import { inTransaction, type Context } from '../work/context.js';
import { hashSecret, looksLikeSecret } from './lib/credentials/secrets.js';

/**
 * Signs out: ends the live session whose secret the cookie holds, audited as the session's owner.
 * An unknown, expired or already ended session is nothing to end, and says so only as `ended: false`,
 * so signing out twice (or with a stale cookie) is harmless.
 */
export const endSession = async (ctx: Context, input: { secret: string | undefined }) => {
  if (!input.secret || !looksLikeSecret(input.secret, 'tns')) return { ended: false };
  const now = ctx.clock.now();
  const [live] = await ctx.store.db.select({ id: sessions.id, identityId: sessions.identityId }).from(sessions)
    .where(and(eq(sessions.secretHash, hashSecret(input.secret)), isNull(sessions.revokedAt), gt(sessions.expiresAt, now)));
  if (!live) return { ended: false };
  return inTransaction({ ...ctx, actor: { id: live.identityId, channel: 'web' } }, async (work) => {
    const ended = await work.tx.update(sessions).set({ revokedAt: work.now })
      .where(and(eq(sessions.id, live.id), isNull(sessions.revokedAt))).returning({ id: sessions.id });
    if (ended.length === 0) return { ended: false };
    work.record({ action: 'session.ended', subject: { type: 'session', id: live.id }, identityId: live.identityId,
      before: { revokedAt: null }, after: { revokedAt: work.now }, reason: 'signed out' });
    return { ended: true, sessionId: live.id };
  });
};
