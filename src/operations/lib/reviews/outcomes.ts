/**
 * What follows the decisions of a campaign: it closes once no item waits, and a renewal campaign
 * whose every grant the sponsor revalidated moves the engagement's end, in the same transaction as
 * the last decision.
 */
import { and, count, eq } from 'drizzle-orm';
import { engagements } from '../../../store/schema.js';
import { reviewCampaigns, reviewItems } from '../../../store/schema-reviews.js';
import type { Work } from '../../../work/context.js';

export type Campaign = typeof reviewCampaigns.$inferSelect;

/**
 * Locks the campaign: decisions on its items and its close serialise here, so exactly one of them
 * sees the last item settled. A renewal's engagement is locked next, before any grant, in the order
 * the lifecycle job takes them when it ends an engagement, so the two cannot deadlock.
 */
export const lockCampaign = async (work: Work, id: string): Promise<Campaign | undefined> => {
  const [campaign] = await work.tx.select().from(reviewCampaigns).where(eq(reviewCampaigns.id, id)).for('update');
  if (campaign?.engagementId) await work.tx.select({ id: engagements.id }).from(engagements).where(eq(engagements.id, campaign.engagementId)).for('update');
  return campaign;
};

/** Moves an active engagement's end later, once its sponsor has revalidated what it holds. */
export const renewEngagementTo = async (work: Work, engagementId: string, endsAt: Date, why: { reason: string; campaignId: string | null }) => {
  const [engagement] = await work.tx.select().from(engagements).where(eq(engagements.id, engagementId)).for('update');
  if (!engagement || engagement.status !== 'active' || engagement.endsAt.getTime() >= endsAt.getTime()) return false;
  await work.tx.update(engagements).set({ endsAt }).where(eq(engagements.id, engagement.id));
  work.record({ action: 'engagement.renewed', subject: { type: 'engagement', id: engagement.id }, identityId: engagement.identityId,
    before: { endsAt: engagement.endsAt }, after: { endsAt, campaignId: why.campaignId }, reason: why.reason });
  return true;
};

export const closeCampaignRow = async (work: Work, campaign: Campaign, outcome: Record<string, unknown>) => {
  await work.tx.update(reviewCampaigns).set({ status: 'closed', closedAt: work.now }).where(eq(reviewCampaigns.id, campaign.id));
  work.record({ action: 'review.campaign_closed', subject: { type: 'review_campaign', id: campaign.id }, before: { status: 'open' },
    after: { status: 'closed', trigger: campaign.trigger, ...outcome } });
};

/**
 * Closes the campaign if no item is pending any more (the caller holds the campaign's lock). A
 * renewal campaign then renews: every grant was kept, shortened or dropped by the sponsor.
 */
export const settleIfComplete = async (work: Work, campaign: Campaign): Promise<{ closed: boolean; renewed: boolean }> => {
  const [pending] = await work.tx.select({ n: count() }).from(reviewItems)
    .where(and(eq(reviewItems.campaignId, campaign.id), eq(reviewItems.status, 'pending')));
  if ((pending?.n ?? 0) > 0 || campaign.status !== 'open') return { closed: false, renewed: false };
  const renewed = campaign.trigger === 'engagement_renewal' && campaign.engagementId && campaign.renewalEndsAt
    ? await renewEngagementTo(work, campaign.engagementId, campaign.renewalEndsAt,
      { reason: 'the sponsor revalidated every grant', campaignId: campaign.id })
    : false;
  await closeCampaignRow(work, campaign, { completed: true, ...(campaign.trigger === 'engagement_renewal' ? { renewed } : {}) });
  return { closed: true, renewed };
};
