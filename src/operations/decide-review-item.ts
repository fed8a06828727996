import { eq } from 'drizzle-orm';
import { z } from 'zod';
import { TenureError } from '../domain/errors.js';
import { isUuid } from '../domain/ids.js';
import { REVIEW_DECISIONS, type ItemStatus } from '../domain/reviews.js';
import { entitlements, grants } from '../store/schema.js';
import { reviewItems } from '../store/schema-reviews.js';
import { loadActor, requireMayAct, requirePerson, type ActingIdentity } from './authorize.js';
import { inTransaction, type Context, type Work } from '../work/context.js';
import { instant, parseInput, text } from './input.js';
import { revokeLiveGrants } from './lib/ending/end-access.js';
import { partiesOfIdentities, refuseParties } from './lib/approval/parties.js';
import { lockCampaign, settleIfComplete } from './lib/reviews/outcomes.js';

export const Input = z.object({
  item: z.string().min(1, 'must be a review item id'),
  decision: z.enum(REVIEW_DECISIONS),
  comment: text(2000).describe('why: required for every decision, kept in the audit log'),
  endsAt: instant.optional().describe('with shorten: the new, earlier end'),
}).strict();

type Item = typeof reviewItems.$inferSelect;
type Data = z.infer<typeof Input>;

/**
 * Who may decide, checked in this order: nobody about their own access or that of an identity they
 * created or own, nor through a credential such a party minted (even if assigned), only a
 * person (never a service account or automation), only the assigned reviewer. Someone who may not
 * see the item learns nothing more than that it does not exist.
 */
const checkDecider = async (work: Work, acting: ActingIdentity, item: Item): Promise<void> => {
  const me = acting.identity.id;
  if (item.identityId === me) throw new TenureError('review.self_review_forbidden', 'nobody reviews their own access', { field: 'item' });
  refuseParties(work, await partiesOfIdentities(work.tx, [item.identityId]), 'review.self_review_forbidden',
    'nobody reviews the access of an identity they created or own', 'item');
  requirePerson(acting, 'decide an access review');
  requireMayAct(acting, { allowed: item.reviewerId === me, readAll: 'review.read_all',
    notFound: () => new TenureError('review.item_not_found', `no review item '${item.id}'`, { field: 'item' }),
    refusal: 'only the assigned reviewer decides this item', field: 'item' });
};

/** A shortened grant ends later than now and its start, and earlier than it would have. */
const checkShorterEnd = (data: Data, grant: typeof grants.$inferSelect, now: Date): Date => {
  if (!data.endsAt) throw new TenureError('input.invalid', 'endsAt: required with shorten', { field: 'endsAt' });
  const floor = Math.max(now.getTime(), grant.startsAt.getTime());
  if (data.endsAt.getTime() <= floor || (grant.endsAt !== null && data.endsAt.getTime() >= grant.endsAt.getTime())) {
    throw new TenureError('review.invalid_end', `endsAt: must be after ${new Date(floor).toISOString()} and before the current end ${grant.endsAt?.toISOString() ?? '(none)'}`,
      { field: 'endsAt' });
  }
  return data.endsAt;
};

/** Carries the decision out on the grant (locked); returns the item's new status and the new end if shortened. */
const carryOut = async (work: Work, data: Data, item: Item): Promise<{ status: ItemStatus; newEndsAt: Date | null; systemId: string }> => {
  const [found] = await work.tx.select({ grant: grants, systemId: entitlements.systemId }).from(grants)
    .innerJoin(entitlements, eq(entitlements.id, grants.entitlementId)).where(eq(grants.id, item.grantId)).for('update', { of: grants });
  const { grant, systemId } = found!;
  if (grant.status !== 'active' && grant.status !== 'scheduled') return { status: 'void', newEndsAt: null, systemId };
  if (data.decision === 'keep') return { status: 'kept', newEndsAt: null, systemId };
  if (data.decision === 'revoke') {
    await revokeLiveGrants(work, eq(grants.id, grant.id), `review: ${data.comment}`);
    return { status: 'revoked', newEndsAt: null, systemId };
  }
  const endsAt = checkShorterEnd(data, grant, work.now);
  await work.tx.update(grants).set({ endsAt }).where(eq(grants.id, grant.id));
  work.record({ action: 'grant.shortened', subject: { type: 'grant', id: grant.id }, identityId: grant.identityId, systemId,
    before: { endsAt: grant.endsAt }, after: { endsAt }, reason: `review: ${data.comment}` });
  return { status: 'shortened', newEndsAt: endsAt, systemId };
};

/**
 * `tenure review decide`: keep, revoke or shorten one grant under review, with a comment, as the
 * assigned reviewer. A grant that ended meanwhile makes the item void. The last decision of a
 * campaign closes it, and for an engagement renewal moves the engagement's end.
 */
export const decideReviewItem = async (ctx: Context, input: z.input<typeof Input>) => {
  const data = parseInput(Input, input);
  if (data.decision !== 'shorten' && data.endsAt) throw new TenureError('input.invalid', 'endsAt: only with shorten', { field: 'endsAt' });
  return inTransaction(ctx, async (work) => {
    const acting = await loadActor(work.tx, work.actor.id);
    const missing = () => new TenureError('review.item_not_found', `no review item '${data.item}'`, { field: 'item' });
    if (!isUuid(data.item)) throw missing();
    const [seen] = await work.tx.select({ campaignId: reviewItems.campaignId }).from(reviewItems).where(eq(reviewItems.id, data.item));
    if (!seen) throw missing();
    // Campaign first, then the item, as the close job does: two reviewers deciding the last two items
    // at once, or a decision racing the close, wait for each other instead of each missing the other.
    const campaign = await lockCampaign(work, seen.campaignId);
    if (!campaign) throw missing();
    const [item] = await work.tx.select().from(reviewItems).where(eq(reviewItems.id, data.item)).for('update');
    await checkDecider(work, acting, item!);
    if (item!.status !== 'pending') throw new TenureError('review.already_decided', `the item is already ${item!.status}`, { field: 'item' });
    const outcome = await carryOut(work, data, item!);
    await work.tx.update(reviewItems).set({ status: outcome.status, decidedBy: acting.identity.id, decidedAt: work.now,
      comment: data.comment, newEndsAt: outcome.newEndsAt }).where(eq(reviewItems.id, item!.id));
    work.record({
      action: outcome.status === 'void' ? 'review.item_voided' : 'review.decided', subject: { type: 'review_item', id: item!.id },
      identityId: item!.identityId, systemId: outcome.systemId, reason: data.comment, before: { status: 'pending' },
      after: { status: outcome.status, decision: data.decision, grantId: item!.grantId, campaignId: campaign.id, newEndsAt: outcome.newEndsAt,
        entitlement: item!.evidence.entitlement },
    });
    const settled = await settleIfComplete(work, campaign);
    return { id: item!.id, status: outcome.status, grantId: item!.grantId, newEndsAt: outcome.newEndsAt, campaignClosed: settled.closed,
      engagementRenewed: settled.renewed };
  });
};
