/**
 * Vendor contract ends: a vendor whose contract end has come and was not carried out yet has it
 * carried out, one vendor per transaction (a vendor's end can reach many people). Idempotent:
 * `end_applied_at` says it was done, and a second worker finds it set under the vendor's lock.
 */
import { and, asc, isNull, lte } from 'drizzle-orm';
import { inTransaction, type Context } from '../work/context.js';
import { endVendorWithin, lockVendorReach } from '../operations/lib/ending/vendor-end.js';
import { vendors } from '../store/schema.js';

export const endDueVendors = async (ctx: Context, limit = 100): Promise<number> => {
  const now = ctx.clock.now();
  const due = await ctx.store.db.select({ id: vendors.id }).from(vendors)
    .where(and(isNull(vendors.endAppliedAt), lte(vendors.contractEnd, now))).orderBy(asc(vendors.contractEnd)).limit(limit);
  let ended = 0;
  for (const { id } of due) {
    const done = await inTransaction(ctx, async (work) => {
      const vendor = await lockVendorReach(work, id);
      // Read again under the lock: another worker may have carried it out, or IAM moved the end later.
      if (vendor.endAppliedAt || vendor.contractEnd.getTime() > work.now.getTime()) return false;
      await endVendorWithin(work, vendor, 'contract end date reached');
      return true;
    });
    if (done) ended += 1;
  }
  return ended;
};
