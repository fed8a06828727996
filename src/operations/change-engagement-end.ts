import { eq } from 'drizzle-orm';
import { z } from 'zod';
import { TenureError } from '../domain/errors.js';
import { lockIdentity } from '../store/queries/identities.js';
import { vendors, engagements } from '../store/schema.js';
import { authorize } from './authorize.js';
import { inTransaction, type Context, type Work } from '../work/context.js';
import { instant, parseInput, text } from './input.js';
import { capUnderEngagement, endEngagementWithin } from './lib/ending/engagement-end.js';

/**
 * The engagement's identity first, then the engagement (the lock order beside inTransaction): a
 * decision on the same person's request takes them in that order, and then the request and grants
 * this change reaches. The identity is read from the engagement before either lock: it never changes.
 */
const lockEngagement = async (work: Work, id: string) => {
  const missing = () => new TenureError('engagement.not_found', `no engagement '${id}'`, { field: 'engagement' });
  const [seen] = await work.tx.select({ identityId: engagements.identityId }).from(engagements).where(eq(engagements.id, id));
  if (!seen) throw missing();
  await lockIdentity(work.tx, seen.identityId);
  const [row] = await work.tx.select().from(engagements).where(eq(engagements.id, id)).for('update');
  if (!row) throw missing();
  if (row.status !== 'active') throw new TenureError('engagement.not_active', `engagement ${id} is ${row.status}`);
  return row;
};

export const ChangeInput = z.object({ engagement: z.uuid('must be an engagement id'), endsAt: instant, reason: text() }).strict();

/** Moves an engagement's end; earlier shortens everything under it, a past end ends it now. */
export const changeEngagementEnd = async (ctx: Context, input: z.input<typeof ChangeInput>) => {
  const data = parseInput(ChangeInput, input);
  return inTransaction(ctx, async (work) => {
    await authorize(work, 'engagement.change');
    const engagement = await lockEngagement(work, data.engagement);
    if (data.endsAt.getTime() <= work.now.getTime()) {
      return { ended: true, ...(await endEngagementWithin(work, engagement, data.reason)) };
    }
    // FOR SHARE: the contract end cannot move between this check and commit (change-vendor-end takes it FOR UPDATE).
    const [vendor] = await work.tx.select().from(vendors).where(eq(vendors.id, engagement.vendorId)).for('share');
    if (vendor && data.endsAt.getTime() > vendor.contractEnd.getTime()) {
      throw new TenureError('engagement.invalid_dates', `endsAt: must not be after the vendor's contract end ${vendor.contractEnd.toISOString()}`, { field: 'endsAt' });
    }
    await work.tx.update(engagements).set({ endsAt: data.endsAt }).where(eq(engagements.id, engagement.id));
    work.record({ action: 'engagement.end_changed', subject: { type: 'engagement', id: engagement.id },
      identityId: engagement.identityId, before: { endsAt: engagement.endsAt }, after: { endsAt: data.endsAt }, reason: data.reason });
    const capped = data.endsAt < engagement.endsAt ? await capUnderEngagement(work, engagement, data.endsAt)
      : { grantsShortened: 0, requestsShortened: 0 };
    return { ended: false, ...capped };
  });
};

export const EndInput = z.object({ engagement: z.uuid('must be an engagement id'), reason: text() }).strict();

/** Ends an engagement now (contract terminated early): its grants are revoked, its requests cancelled. */
export const endEngagement = async (ctx: Context, input: z.input<typeof EndInput>) => {
  const data = parseInput(EndInput, input);
  return inTransaction(ctx, async (work) => {
    await authorize(work, 'engagement.change');
    const engagement = await lockEngagement(work, data.engagement);
    return endEngagementWithin(work, engagement, data.reason);
  });
};
