/**
 * Access review campaigns and their items: one item per grant to certify, assigned to a reviewer who
 * does not hold it, with the evidence the reviewer needs and what happens if nobody decides.
 * Part of the one schema.
 */
import { sql } from 'drizzle-orm';
import { check, index, jsonb, pgTable, text, timestamp, uniqueIndex, uuid } from 'drizzle-orm/pg-core';
import {
  CAMPAIGN_STATUSES, ITEM_STATUSES, UNDECIDED_ACTIONS,
  type CampaignStatus, type CampaignTrigger, type ItemStatus, type ReviewEvidence, type UndecidedAction,
} from '../domain/reviews.js';
import { oneOf } from './checks.js';
import { engagements, grants, identities } from './schema.js';

const ts = (name: string) => timestamp(name, { withTimezone: true, mode: 'date' });

export const reviewCampaigns = pgTable('review_campaigns', {
  id: uuid('id').primaryKey(),
  name: text('name').notNull(),
  trigger: text('trigger').$type<CampaignTrigger>().notNull(),
  /** For a campaign defined in the policy file: its key there, so the schedule knows when it last ran. */
  policyKey: text('policy_key'),
  /** Which grants and which reviewer, as asked (kept for the evidence). */
  scope: jsonb('scope').notNull(),
  status: text('status').$type<CampaignStatus>().notNull(),
  dueAt: ts('due_at').notNull(),
  /** Renewal campaigns: the engagement and the end it moves to once the sponsor has revalidated every grant. */
  engagementId: uuid('engagement_id').references(() => engagements.id),
  renewalEndsAt: ts('renewal_ends_at'),
  createdBy: uuid('created_by'),
  createdAt: ts('created_at').notNull(),
  closedAt: ts('closed_at'),
}, (t) => [
  index('review_campaigns_due_idx').on(t.dueAt).where(sql`${t.status} = 'open'`),
  index('review_campaigns_policy_idx').on(t.policyKey, t.createdAt),
  check('review_campaigns_status_ck', oneOf(t.status, CAMPAIGN_STATUSES)),
]);

export const reviewItems = pgTable('review_items', {
  id: uuid('id').primaryKey(),
  campaignId: uuid('campaign_id').notNull().references(() => reviewCampaigns.id),
  grantId: uuid('grant_id').notNull().references(() => grants.id),
  identityId: uuid('identity_id').notNull().references(() => identities.id),
  reviewerId: uuid('reviewer_id').notNull().references(() => identities.id),
  status: text('status').$type<ItemStatus>().notNull(),
  /** What the campaign's close does when nobody decided (revoke by default for non-employees). */
  undecided: text('undecided').$type<UndecidedAction>().notNull(),
  evidence: jsonb('evidence').$type<ReviewEvidence>().notNull(),
  decidedBy: uuid('decided_by'),
  decidedAt: ts('decided_at'),
  comment: text('comment'),
  newEndsAt: ts('new_ends_at'),
  createdAt: ts('created_at').notNull(),
}, (t) => [
  uniqueIndex('review_items_campaign_grant_uq').on(t.campaignId, t.grantId),
  index('review_items_reviewer_idx').on(t.reviewerId, t.status),
  check('review_items_status_ck', oneOf(t.status, ITEM_STATUSES)),
  check('review_items_undecided_ck', oneOf(t.undecided, UNDECIDED_ACTIONS)),
]);

export const reviewsTables = { reviewCampaigns, reviewItems };
