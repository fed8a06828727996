import { and, asc, eq, inArray, type SQL } from 'drizzle-orm';
import { z } from 'zod';
import { ITEM_STATUSES } from '../domain/reviews.js';
import { handlesById } from '../store/queries/identities.js';
import { grants } from '../store/schema.js';
import { reviewCampaigns, reviewItems } from '../store/schema-reviews.js';
import { loadActor, requirePermission } from './authorize.js';
import type { Context } from '../work/context.js';
import { parseInput } from './input.js';
import { lastUsesOf } from './lib/reviews/campaigns.js';


export const Input = z.object({
  view: z.enum(['mine', 'all']).default('mine').describe('mine: the items I am asked to decide; all: every item (IAM, security, auditors)'),
  status: z.enum(ITEM_STATUSES).optional(),
  campaign: z.uuid('must be a campaign id').optional(),
  limit: z.number().int().min(1).max(1000).default(200),
}).strict();

/**
 * Review items, soonest due first, each with the evidence a reviewer needs: the entitlement and its
 * tier, when it was granted and by whose approval, the engagement and its end, and the last use the
 * decision point saw (read now, not when the campaign opened).
 */
export const listReviewItems = async (ctx: Context, input: z.input<typeof Input> = {}) => {
  const data = parseInput(Input, input);
  const exec = ctx.store.db;
  const acting = await loadActor(exec, ctx.actor.id);
  if (data.view === 'all') requirePermission(acting, 'review.read_all', 'view');
  const filters: (SQL | undefined)[] = [
    data.view === 'mine' ? eq(reviewItems.reviewerId, acting.identity.id) : undefined,
    data.status ? eq(reviewItems.status, data.status) : undefined,
    data.campaign ? eq(reviewItems.campaignId, data.campaign) : undefined,
  ];
  const rows = await exec.select({ item: reviewItems, campaign: { name: reviewCampaigns.name, trigger: reviewCampaigns.trigger,
    dueAt: reviewCampaigns.dueAt, status: reviewCampaigns.status, renewalEndsAt: reviewCampaigns.renewalEndsAt } })
    .from(reviewItems).innerJoin(reviewCampaigns, eq(reviewCampaigns.id, reviewItems.campaignId))
    .where(and(...filters)).orderBy(asc(reviewCampaigns.dueAt), asc(reviewItems.createdAt), asc(reviewItems.id)).limit(data.limit);
  const ids = rows.map((r) => r.item.grantId);
  const lastUses = ids.length === 0 ? new Map<string, Date>() : await lastUsesOf(exec, inArray(grants.id, ids));
  const handles = await handlesById(exec, rows.flatMap((r) => [r.item.reviewerId, ...(r.item.decidedBy ? [r.item.decidedBy] : [])]));
  const now = ctx.clock.now();
  return rows.map(({ item, campaign }) => ({
    id: item.id, campaignId: item.campaignId, campaign: campaign.name, trigger: campaign.trigger, dueAt: campaign.dueAt,
    overdue: item.status === 'pending' && campaign.dueAt < now, renewalEndsAt: campaign.renewalEndsAt,
    grantId: item.grantId, holder: item.evidence.holder.handle, reviewer: handles.get(item.reviewerId) ?? item.reviewerId,
    status: item.status, undecided: item.undecided,
    evidence: { ...item.evidence, lastUsedAt: lastUses.get(item.grantId)?.toISOString() ?? item.evidence.lastUsedAt },
    decidedBy: item.decidedBy ? handles.get(item.decidedBy) ?? item.decidedBy : null, decidedAt: item.decidedAt,
    comment: item.comment, newEndsAt: item.newEndsAt,
  }));
};
