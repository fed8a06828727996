/**
 * The worker pass's step that hands a shared account to the next in its line once it is free
 * (operations/lib/approval/check-out-queue.ts). Each line is served in its own transactions, so a
 * busy account delays no other.
 */
import { and, asc, eq, gt } from 'drizzle-orm';
import { TenureError } from '../domain/errors.js';
import { giveQueuedCheckOut, lapseQueuedCheckOut } from '../operations/lib/approval/check-out-queue.js';
import { accessRequests } from '../store/schema.js';
import { inTransaction, type Context } from '../work/context.js';

/** Serves one account's line: gives its head the account, or ends heads that can no longer have it until one can or the line is empty. */
const serveLine = async (ctx: Context, entitlementId: string): Promise<number> => {
  for (;;) {
    const [head] = await ctx.store.db.select({ id: accessRequests.id }).from(accessRequests)
      .where(and(eq(accessRequests.entitlementId, entitlementId), eq(accessRequests.status, 'queued'), gt(accessRequests.expiresAt, ctx.clock.now())))
      .orderBy(asc(accessRequests.queueSeq)).limit(1);
    if (!head) return 0;
    try {
      const outcome = await inTransaction(ctx, (work) => giveQueuedCheckOut(work, head.id));
      if (outcome !== 'gone') return outcome === 'given' ? 1 : 0;
    } catch (error) {
      if (!(error instanceof TenureError) || error.code === 'service.unavailable') throw error;
      await inTransaction(ctx, (work) => lapseQueuedCheckOut(work, head.id, error));
    }
  }
};

/** Check-outs given from the lines of every shared account that has one. */
export const giveFreedCheckOuts = async (ctx: Context): Promise<number> => {
  const lines = await ctx.store.db.selectDistinct({ entitlementId: accessRequests.entitlementId }).from(accessRequests)
    .where(eq(accessRequests.status, 'queued'));
  let given = 0;
  for (const line of lines) given += await serveLine(ctx, line.entitlementId);
  return given;
};
