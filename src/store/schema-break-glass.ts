/**
 * Break-glass reviews: one per break-glass grant, assigned to a named reviewer who is not the user,
 * due within a day of the access starting. Part of the one schema; migrations cover every file.
 */
import { sql } from 'drizzle-orm';
import { check, index, pgTable, text, timestamp, uuid } from 'drizzle-orm/pg-core';
import { BREAK_GLASS_REVIEW_STATUSES, type BreakGlassReviewStatus } from '../domain/break-glass.js';
import { oneOf } from './checks.js';
import { grants, identities } from './schema.js';

const ts = (name: string) => timestamp(name, { withTimezone: true, mode: 'date' });

export const breakGlassReviews = pgTable('break_glass_reviews', {
  id: uuid('id').primaryKey(),
  grantId: uuid('grant_id').notNull().references(() => grants.id),
  identityId: uuid('identity_id').notNull().references(() => identities.id),
  reviewerId: uuid('reviewer_id').notNull().references(() => identities.id),
  incident: text('incident').notNull(),
  reason: text('reason').notNull(),
  startsAt: ts('starts_at').notNull(),
  endsAt: ts('ends_at').notNull(),
  dueAt: ts('due_at').notNull(),
  status: text('status').$type<BreakGlassReviewStatus>().notNull(),
  decidedBy: uuid('decided_by'),
  decidedAt: ts('decided_at'),
  comment: text('comment'),
  createdAt: ts('created_at').notNull(),
}, (t) => [
  index('break_glass_reviews_reviewer_idx').on(t.reviewerId, t.status),
  index('break_glass_reviews_due_idx').on(t.dueAt).where(sql`${t.status} = 'pending'`),
  check('break_glass_reviews_status_ck', oneOf(t.status, BREAK_GLASS_REVIEW_STATUSES)),
]);

export const breakGlassTables = { breakGlassReviews };
