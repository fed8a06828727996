import { and, count, eq, inArray } from 'drizzle-orm';
import { z } from 'zod';
import { DEFAULT_REVIEW_SETTINGS } from '../domain/reviews.js';
import { TenureError } from '../domain/errors.js';
import { loadAppliedPolicy } from '../policy/applied.js';
import type { Engagement } from '../store/queries/catalogue.js';
import { findIdentityById } from '../store/queries/identities.js';
import { engagements, grants, vendors } from '../store/schema.js';
import { reviewCampaigns } from '../store/schema-reviews.js';
import { loadActor, requireVisible, type ActingIdentity } from './authorize.js';
import { inTransaction, type Context, type Work } from '../work/context.js';
import { instant, parseInput, text } from './input.js';
import { openCampaign } from './lib/reviews/campaigns.js';
import { renewEngagementTo } from './lib/reviews/outcomes.js';

export const Input = z.object({
  engagement: z.uuid('must be an engagement id'),
  endsAt: instant.describe('the new end, after the current one'),
  reason: text(2000),
}).strict();

type Data = z.infer<typeof Input>;

/** IAM, the engagement's sponsor, or the contractor themself; anyone else learns nothing of the engagement. */
const lockAllowed = async (work: Work, acting: ActingIdentity, id: string): Promise<Engagement> => {
  const [engagement] = await work.tx.select().from(engagements).where(eq(engagements.id, id)).for('update');
  const missing = () => new TenureError('engagement.not_found', `no engagement '${id}'`, { field: 'engagement' });
  if (!engagement) throw missing();
  const me = acting.identity.id;
  requireVisible(acting, engagement.sponsorId === me || engagement.identityId === me, 'engagement.change', missing);
  if (engagement.status !== 'active' || engagement.endsAt.getTime() <= work.now.getTime()) {
    throw new TenureError('engagement.not_active', `engagement ${id} is ${engagement.status === 'active' ? 'past its end' : engagement.status}`);
  }
  return engagement;
};

/** The same limits as moving the end by hand: later than now, and within the vendor's contract. */
const checkNewEnd = async (work: Work, engagement: Engagement, data: Data): Promise<void> => {
  if (data.endsAt.getTime() <= engagement.endsAt.getTime()) {
    throw new TenureError('engagement.invalid_dates', `endsAt: a renewal must end after the current end ${engagement.endsAt.toISOString()}`, { field: 'endsAt' });
  }
  // FOR SHARE: the contract end cannot move between this check and commit (change-vendor-end takes it FOR UPDATE).
  const [vendor] = await work.tx.select().from(vendors).where(eq(vendors.id, engagement.vendorId)).for('share');
  if (vendor && data.endsAt.getTime() > vendor.contractEnd.getTime()) {
    throw new TenureError('engagement.invalid_dates', `endsAt: must not be after the vendor's contract end ${vendor.contractEnd.toISOString()}`, { field: 'endsAt' });
  }
  const [waiting] = await work.tx.select({ id: reviewCampaigns.id }).from(reviewCampaigns)
    .where(and(eq(reviewCampaigns.engagementId, engagement.id), eq(reviewCampaigns.trigger, 'engagement_renewal'), eq(reviewCampaigns.status, 'open')));
  if (waiting) throw new TenureError('review.renewal_pending', `renewal campaign ${waiting.id} already waits for the sponsor`, { field: 'engagement' });
};

const checkSponsorActive = async (work: Work, engagement: Engagement): Promise<void> => {
  const sponsor = await findIdentityById(work.tx, engagement.sponsorId);
  if (!sponsor || sponsor.status !== 'active') {
    throw new TenureError('identity.sponsor_inactive', `the engagement's sponsor ${sponsor?.handle ?? engagement.sponsorId} is not active: reassign the sponsor first`,
      { field: 'engagement' });
  }
};

/** With no live grant there is nothing to revalidate: the sponsor asking is the revalidation. */
const renewAtOnce = async (work: Work, acting: ActingIdentity, engagement: Engagement, data: Data) => {
  if (acting.identity.id !== engagement.sponsorId) {
    throw new TenureError('engagement.sponsor_must_renew', 'the engagement holds no live grants: its sponsor must ask for the renewal', { field: 'engagement' });
  }
  await renewEngagementTo(work, engagement.id, data.endsAt, { reason: `renewed by the sponsor, no live grants: ${data.reason}`, campaignId: null });
  return { engagement: engagement.id, renewed: true, endsAt: data.endsAt, requestedEndsAt: data.endsAt, campaignId: null, items: 0, dueAt: null };
};

/**
 * `tenure engagement renew`: a later end needs the sponsor to revalidate every live grant under the
 * engagement. A renewal campaign asks the sponsor to keep, shorten or drop each one; once every item
 * is decided the end moves. Undecided by the due date (never after the current end), the renewal
 * lapses and the grants are dropped.
 */
export const renewEngagement = async (ctx: Context, input: z.input<typeof Input>) => {
  const data = parseInput(Input, input);
  return inTransaction(ctx, async (work) => {
    const acting = await loadActor(work.tx, work.actor.id);
    const engagement = await lockAllowed(work, acting, data.engagement);
    await checkNewEnd(work, engagement, data);
    await checkSponsorActive(work, engagement);
    const live = and(eq(grants.engagementId, engagement.id), inArray(grants.status, ['scheduled', 'active']))!;
    const [held] = await work.tx.select({ n: count() }).from(grants).where(live);
    if ((held?.n ?? 0) === 0) return renewAtOnce(work, acting, engagement, data);

    const eventDueInMs = (await loadAppliedPolicy(work.tx)).reviews?.eventDueInMs ?? DEFAULT_REVIEW_SETTINGS.eventDueInMs;
    const dueAt = new Date(Math.min(work.now.getTime() + eventDueInMs, engagement.endsAt.getTime()));
    const opened = await openCampaign(work, {
      name: `renewal of engagement "${engagement.purpose}" until ${data.endsAt.toISOString().slice(0, 10)}`, trigger: 'engagement_renewal',
      scope: { grants: 'engagement', engagement: engagement.id, endsAt: data.endsAt, reason: data.reason, requestedBy: acting.identity.handle },
      grants: eq(grants.engagementId, engagement.id), reviewer: { fixed: engagement.sponsorId }, dueAt, undecided: 'revoke',
      engagementId: engagement.id, renewalEndsAt: data.endsAt,
    });
    if (!opened.campaignId) throw new TenureError('internal', `no reviewer for the grants of engagement ${engagement.id}`);
    work.record({ action: 'engagement.renewal_requested', subject: { type: 'engagement', id: engagement.id }, identityId: engagement.identityId,
      reason: data.reason, before: { endsAt: engagement.endsAt },
      after: { endsAt: data.endsAt, campaignId: opened.campaignId, items: opened.items, dueAt, reviewerId: engagement.sponsorId } });
    return { engagement: engagement.id, renewed: false, endsAt: engagement.endsAt, requestedEndsAt: data.endsAt, campaignId: opened.campaignId,
      items: opened.items, dueAt };
  });
};
