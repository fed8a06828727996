import { z } from 'zod';
import { CAMPAIGN_TRIGGERS, ITEM_STATUSES, REVIEW_DECISIONS, UNDECIDED_ACTIONS } from '../../domain/reviews.js';
import { createReviewCampaign, Input as CampaignInput } from '../../operations/create-review-campaign.js';
import { decideReviewItem, Input as DecideInput } from '../../operations/decide-review-item.js';
import { listReviewItems } from '../../operations/list-review-items.js';
import { renewEngagement, Input as RenewInput } from '../../operations/renew-engagement.js';
import { contextOf } from '../access.js';
import { idParam, isoDate, limitQuery, optionalDate, problems } from '../schemas.js';
import { typed, type RouteModule } from './route.js';

const Evidence = z.object({
  entitlement: z.string(), tier: z.string(), holder: z.object({ handle: z.string(), kind: z.string() }),
  grantedAt: z.string(), endsAt: z.string().nullable(), origin: z.string(),
  approvals: z.array(z.object({ stage: z.string(), approver: z.string().nullable(), decidedAt: z.string().nullable() })),
  engagement: z.object({ id: z.string(), purpose: z.string(), endsAt: z.string() }).nullable(),
  lastUsedAt: z.string().nullable().describe('the last use the decision point allowed, read when listed'),
});
const ItemView = z.object({
  id: z.string(), campaignId: z.string(), campaign: z.string(), trigger: z.enum(CAMPAIGN_TRIGGERS), dueAt: isoDate, overdue: z.boolean(),
  renewalEndsAt: optionalDate, grantId: z.string(), holder: z.string(), reviewer: z.string(), status: z.enum(ITEM_STATUSES),
  undecided: z.enum(UNDECIDED_ACTIONS), evidence: Evidence, decidedBy: z.string().nullable(), decidedAt: optionalDate,
  comment: z.string().nullable(), newEndsAt: optionalDate,
});
const ItemsQuery = z.object({
  view: z.enum(['mine', 'all']).optional(), status: z.enum(ITEM_STATUSES).optional(), campaign: z.uuid().optional(), limit: limitQuery(1000),
}).strict();
const Opened = z.object({
  created: z.boolean().describe('false when the scope had nothing to review: no campaign is created'), campaignId: z.string().nullable(),
  items: z.number(), unassigned: z.array(z.string()).describe('grants nobody but their holder could review'), dueAt: isoDate,
});
const Decided = z.object({
  id: z.string(), status: z.enum(ITEM_STATUSES), grantId: z.string(), newEndsAt: optionalDate, campaignClosed: z.boolean(), engagementRenewed: z.boolean(),
});
const Renewal = z.object({
  engagement: z.string(), renewed: z.boolean().describe('true: the end moved now (no live grants, asked by the sponsor)'), endsAt: isoDate,
  requestedEndsAt: isoDate, campaignId: z.string().nullable(), items: z.number(), dueAt: optionalDate,
});

/** Access review campaigns and engagement renewal; see docs/reviews.md. */
export const reviewRoutes: RouteModule = (app, deps) => {
  const r = typed(app);
  const ctx = (request: Parameters<typeof contextOf>[0]) => contextOf(request, deps.store, deps.clock);
  r.get('/v1/reviews/items', {
    config: { access: { scope: 'read', permission: 'self' } },
    schema: { tags: ['reviews'], summary: 'Review items with their evidence: mine to decide, or all (IAM, security, auditors)',
      querystring: ItemsQuery, response: { 200: z.object({ items: z.array(ItemView) }), ...problems } },
  }, async (request) => ({ items: await listReviewItems(ctx(request), request.query) }));
  r.post('/v1/reviews/campaigns', {
    config: { access: { scope: 'write', permission: 'review.manage' } },
    schema: { tags: ['reviews'], summary: 'Open an ad hoc review campaign over a scope of grants (none is created when nothing is in scope)',
      body: CampaignInput, response: { 201: Opened, 200: Opened, ...problems } },
  }, async (request, reply) => {
    const opened = await createReviewCampaign(ctx(request), request.body);
    return reply.code(opened.created ? 201 : 200).send(opened);
  });
  r.post('/v1/reviews/items/:item/decide', {
    config: { access: { scope: 'write', permission: 'self' } },
    schema: { tags: ['reviews'], summary: `Decide an item assigned to me: ${REVIEW_DECISIONS.join(', ')} (with endsAt), always with a comment`,
      params: idParam('item', 'review item id'), body: DecideInput.omit({ item: true }), response: { 200: Decided, ...problems } },
  }, async (request) => decideReviewItem(ctx(request), { ...request.body, item: request.params.item }));
  r.post('/v1/engagements/:engagement/renew', {
    config: { access: { scope: 'write', permission: 'self' } },
    schema: { tags: ['engagements'], summary: 'Ask to renew an engagement (IAM, its sponsor, or the contractor): the sponsor revalidates every live grant first',
      params: idParam('engagement', 'engagement id'), body: RenewInput.omit({ engagement: true }), response: { 200: Renewal, ...problems } },
  }, async (request) => renewEngagement(ctx(request), { ...request.body, engagement: request.params.engagement }));
};
