/**
 * The HR feed: every event received (idempotent by source and event id), what each source last said
 * about each person (so two sources that disagree open a finding rather than overwrite each other),
 * and batches held by the suspension brake until security confirms them. Part of the one schema.
 */
import { sql } from 'drizzle-orm';
import { check, index, integer, jsonb, pgTable, primaryKey, text, timestamp, uniqueIndex, uuid } from 'drizzle-orm/pg-core';
import {
  HR_BATCH_STATUSES, HR_EVENT_STATUSES, HR_EVENT_TYPES, type HrAttributes, type HrBatchStatus, type HrEventStatus, type HrEventType,
} from '../domain/hr.js';
import { oneOf } from './checks.js';
import { identities } from './schema.js';

const ts = (name: string) => timestamp(name, { withTimezone: true, mode: 'date' });

export const hrBatches = pgTable('hr_batches', {
  id: uuid('id').primaryKey(),
  status: text('status').$type<HrBatchStatus>().notNull(),
  channel: text('channel').notNull(),
  events: integer('events').notNull(),
  wouldSuspend: integer('would_suspend').notNull(),
  population: integer('population').notNull(),
  createdBy: uuid('created_by'),
  createdAt: ts('created_at').notNull(),
  decidedBy: uuid('decided_by'),
  decidedAt: ts('decided_at'),
  reason: text('reason'),
}, (t) => [check('hr_batches_status_ck', oneOf(t.status, HR_BATCH_STATUSES))]);

export const hrEvents = pgTable('hr_events', {
  id: uuid('id').primaryKey(),
  source: text('source').notNull(),
  eventId: text('event_id').notNull(),
  /** The person in the source's words (its employee id); matched to an identity by employee id or email. */
  employeeId: text('employee_id').notNull(),
  type: text('type').$type<HrEventType>().notNull(),
  effectiveAt: ts('effective_at').notNull(),
  attributes: jsonb('attributes').$type<HrAttributes>().notNull(),
  /** SHA-256 of the event as received: the same id with different content is refused, not replayed. */
  digest: text('digest').notNull(),
  status: text('status').$type<HrEventStatus>().notNull(),
  identityId: uuid('identity_id').references(() => identities.id),
  batchId: uuid('batch_id').references(() => hrBatches.id),
  outcome: jsonb('outcome'),
  receivedAt: ts('received_at').notNull(),
  appliedAt: ts('applied_at'),
}, (t) => [
  uniqueIndex('hr_events_source_event_uq').on(t.source, t.eventId),
  index('hr_events_due_idx').on(t.effectiveAt).where(sql`${t.status} = 'scheduled'`),
  index('hr_events_batch_idx').on(t.batchId),
  index('hr_events_identity_idx').on(t.identityId, t.effectiveAt),
  check('hr_events_type_ck', oneOf(t.type, HR_EVENT_TYPES)),
  check('hr_events_status_ck', oneOf(t.status, HR_EVENT_STATUSES)),
]);

/** What one source last said about one person: compared with the other sources before anything is overwritten. */
export const hrRecords = pgTable('hr_records', {
  source: text('source').notNull(),
  employeeId: text('employee_id').notNull(),
  identityId: uuid('identity_id').notNull().references(() => identities.id),
  attributes: jsonb('attributes').$type<HrAttributes>().notNull(),
  /** The effective time of the last event applied from this source: an older one arriving later is out of order. */
  effectiveAt: ts('effective_at').notNull(),
  updatedAt: ts('updated_at').notNull(),
}, (t) => [
  primaryKey({ columns: [t.source, t.employeeId] }),
  index('hr_records_identity_idx').on(t.identityId),
]);

export const hrTables = { hrBatches, hrEvents, hrRecords };
