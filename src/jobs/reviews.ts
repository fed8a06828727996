/**
 * Access reviews in the worker pass: campaigns past their due date close, each undecided item getting
 * its default (revoke for non-employees unless the campaign said otherwise), and campaigns the policy
 * schedules open when their period has passed.
 */
import { and, asc, desc, eq, lte, sql } from 'drizzle-orm';
import { TenureError } from '../domain/errors.js';
import type { ItemStatus, PolicyCampaign } from '../domain/reviews.js';
import { inTransaction, type Context, type Work } from '../work/context.js';
import { revokeLiveGrants } from '../operations/lib/ending/end-access.js';
import { openCampaign, type OpenedCampaign } from '../operations/lib/reviews/campaigns.js';
import { closeCampaignRow, lockCampaign, settleIfComplete, type Campaign } from '../operations/lib/reviews/outcomes.js';
import { scopeCondition } from '../operations/lib/reviews/scope.js';
import { loadAppliedPolicy } from '../policy/applied.js';
import { engagements, grants } from '../store/schema.js';
import { reviewCampaigns, reviewItems } from '../store/schema-reviews.js';

export const NOT_CERTIFIED = 'review: not certified by due date';

export interface ClosedCampaigns { closed: number; defaultedRevoke: number; defaultedKeep: number; voided: number; renewalsLapsed: number }

type Item = typeof reviewItems.$inferSelect;

/** The item's default, applied to its grant; a grant that ended meanwhile leaves nothing to decide. */
const applyDefault = async (work: Work, item: Item): Promise<ItemStatus> => {
  if (item.undecided === 'revoke') {
    const revoked = await revokeLiveGrants(work, eq(grants.id, item.grantId), NOT_CERTIFIED);
    return revoked.length > 0 ? 'defaulted_revoke' : 'void';
  }
  const [grant] = await work.tx.select({ status: grants.status }).from(grants).where(eq(grants.id, item.grantId));
  return grant?.status === 'active' || grant?.status === 'scheduled' ? 'defaulted_keep' : 'void';
};

const recordLapse = async (work: Work, campaign: Campaign): Promise<void> => {
  const [engagement] = await work.tx.select().from(engagements).where(eq(engagements.id, campaign.engagementId!));
  work.record({ action: 'engagement.renewal_lapsed', subject: { type: 'engagement', id: campaign.engagementId! },
    identityId: engagement?.identityId, reason: 'the sponsor did not revalidate every grant by the due date',
    after: { endsAt: engagement?.endsAt, requestedEndsAt: campaign.renewalEndsAt, campaignId: campaign.id } });
};

/** Closes one due campaign (skipping any another worker holds); null when none is due. */
const closeOneDue = (ctx: Context): Promise<ClosedCampaigns | null> => inTransaction(ctx, async (work) => {
  const [due] = await work.tx.select({ id: reviewCampaigns.id }).from(reviewCampaigns)
    .where(and(eq(reviewCampaigns.status, 'open'), lte(reviewCampaigns.dueAt, work.now)))
    .orderBy(asc(reviewCampaigns.dueAt)).limit(1).for('update', { skipLocked: true });
  if (!due) return null;
  const campaign = (await lockCampaign(work, due.id))!;
  const counts: ClosedCampaigns = { closed: 1, defaultedRevoke: 0, defaultedKeep: 0, voided: 0, renewalsLapsed: 0 };
  const pending = await work.tx.select().from(reviewItems)
    .where(and(eq(reviewItems.campaignId, campaign.id), eq(reviewItems.status, 'pending'))).for('update');
  if (pending.length === 0) return (await settleIfComplete(work, campaign)).closed ? counts : { ...counts, closed: 0 };
  for (const item of pending) {
    const status = await applyDefault(work, item);
    counts[status === 'defaulted_revoke' ? 'defaultedRevoke' : status === 'defaulted_keep' ? 'defaultedKeep' : 'voided'] += 1;
    await work.tx.update(reviewItems).set({ status, decidedAt: work.now, comment: 'not decided by the due date' }).where(eq(reviewItems.id, item.id));
    work.record({ action: status === 'void' ? 'review.item_voided' : 'review.defaulted', subject: { type: 'review_item', id: item.id },
      identityId: item.identityId, reason: 'not decided by the due date', before: { status: 'pending' },
      after: { status, grantId: item.grantId, campaignId: campaign.id, entitlement: item.evidence.entitlement } });
  }
  const renewal = campaign.trigger === 'engagement_renewal' && campaign.engagementId !== null;
  if (renewal) {
    await recordLapse(work, campaign);
    counts.renewalsLapsed = 1;
  }
  await closeCampaignRow(work, campaign, { completed: false, defaultedRevoke: counts.defaultedRevoke, defaultedKeep: counts.defaultedKeep,
    voided: counts.voided, ...(renewal ? { renewed: false } : {}) });
  return counts;
});

/** Every campaign past its due date, one transaction each; safe in several workers at once. */
export const closeDueCampaigns = async (ctx: Context): Promise<ClosedCampaigns> => {
  const total: ClosedCampaigns = { closed: 0, defaultedRevoke: 0, defaultedKeep: 0, voided: 0, renewalsLapsed: 0 };
  for (let one = await closeOneDue(ctx); one; one = await closeOneDue(ctx)) {
    for (const key of Object.keys(total) as (keyof ClosedCampaigns)[]) total[key] += one[key];
  }
  return total;
};

export interface ScheduledCampaigns { opened: (OpenedCampaign & { key: string })[]; errors: { key: string; error: string }[] }

const policyCampaigns = async (ctx: Context): Promise<PolicyCampaign[]> => {
  try {
    return (await loadAppliedPolicy(ctx.store.db)).reviews?.campaigns ?? [];
  } catch (error) {
    if (error instanceof TenureError && error.code === 'policy.not_applied') return [];
    throw error;
  }
};

/** Opens the policy's campaign if its last one is older than its period; the lock keeps two workers from both opening it. */
const runIfDue = (ctx: Context, c: PolicyCampaign): Promise<OpenedCampaign | null> => inTransaction(ctx, async (work) => {
  await work.tx.execute(sql`select pg_advisory_xact_lock(hashtext('tenure.review-campaign'), hashtext(${c.key}))`);
  const [last] = await work.tx.select({ createdAt: reviewCampaigns.createdAt }).from(reviewCampaigns)
    .where(eq(reviewCampaigns.policyKey, c.key)).orderBy(desc(reviewCampaigns.createdAt)).limit(1);
  if (last && work.now.getTime() - last.createdAt.getTime() < c.everyMs) return null;
  const where = await scopeCondition(work.tx, { grants: c.grants, system: c.system });
  return openCampaign(work, {
    name: `${c.key} ${work.now.toISOString().slice(0, 10)}`, trigger: 'schedule', policyKey: c.key,
    scope: { grants: c.grants, system: c.system, reviewer: c.reviewer, every: c.everyMs, undecided: c.undecided }, grants: where,
    reviewer: c.reviewer, dueAt: new Date(work.now.getTime() + c.dueInMs), undecided: c.undecided,
  });
});

/** Every campaign of the policy whose period has passed since it last ran (or that never ran). */
export const runScheduledCampaigns = async (ctx: Context): Promise<ScheduledCampaigns> => {
  const result: ScheduledCampaigns = { opened: [], errors: [] };
  for (const c of await policyCampaigns(ctx)) {
    try {
      const opened = await runIfDue(ctx, c);
      if (opened?.campaignId) result.opened.push({ key: c.key, ...opened });
    } catch (error) {
      result.errors.push({ key: c.key, error: error instanceof Error ? error.message : String(error) });
    }
  }
  return result;
};
