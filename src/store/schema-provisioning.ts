/**
 * Tables of provisioning: the outbox of jobs that turn grant changes into changes in target systems,
 * and findings (drift, failures, overdue tasks) that stay open until the cause is gone or someone
 * resolves them. Part of the one schema (see schema.ts); migrations cover every schema file.
 */
import { sql } from 'drizzle-orm';
import { bigserial, boolean, check, index, integer, jsonb, pgTable, text, timestamp, uniqueIndex, uuid } from 'drizzle-orm/pg-core';
import { FINDING_STATUSES, SEVERITIES, type FindingKind, type FindingStatus, type Severity } from '../domain/findings.js';
import { JOB_ACTIONS, JOB_STATES, type JobAction, type JobState } from '../domain/provisioning.js';
import { oneOf } from './checks.js';
import { grants, identities, systems } from './schema.js';

const ts = (name: string) => timestamp(name, { withTimezone: true, mode: 'date' });

/**
 * One change to make in a target: `provision` or `deprovision` one grant. Rows are written by a
 * trigger on grants (migration 0004) in the transaction that changes the grant, so no path that
 * activates or ends a grant can forget its job. `seq` orders the jobs of one grant.
 */
export const provisioningJobs = pgTable('provisioning_jobs', {
  id: uuid('id').primaryKey().default(sql`gen_random_uuid()`),
  seq: bigserial('seq', { mode: 'number' }).notNull(),
  grantId: uuid('grant_id').notNull().references(() => grants.id),
  /**
   * The grant's holder and system, copied by the trigger for the worker's and the lists' filters.
   * No foreign keys of their own (migration 0033): the grant's key already proves both exist, and
   * checking them again cost about a seventh of the time to expire 100,000 grants (two lookups per job).
   */
  identityId: uuid('identity_id').notNull(),
  systemId: uuid('system_id').notNull(),
  action: text('action').$type<JobAction>().notNull(),
  state: text('state').$type<JobState>().notNull().default('queued'),
  attempts: integer('attempts').notNull().default(0),
  nextAttemptAt: ts('next_attempt_at').notNull().default(sql`now()`),
  /**
   * While `running`: the claim ends at this time unless its worker renews it (jobs/provisioning/lease.ts);
   * past it the worker is presumed dead and another may take the job over. `attempts` is the claim's
   * fencing token: renewals and completions match it, so the old holder can no longer finish the job.
   */
  leaseUntil: ts('lease_until'),
  lastError: text('last_error'),
  /** Security confirmed this revocation past the mass-revocation brake. */
  brakeReleased: boolean('brake_released').notNull().default(false),
  /** Manual systems: when the technical owner must have done it. */
  dueAt: ts('due_at'),
  /** What the connector did and what the read-back found, or who confirmed a manual task. */
  outcome: jsonb('outcome'),
  createdAt: ts('created_at').notNull().default(sql`now()`),
  finishedAt: ts('finished_at'),
  finishedBy: uuid('finished_by'),
}, (t) => [
  uniqueIndex('provisioning_jobs_seq_uq').on(t.seq),
  index('provisioning_jobs_grant_idx').on(t.grantId, t.seq),
  // Partial: the worker only ever looks for unfinished jobs, which are few next to the history.
  index('provisioning_jobs_open_idx').on(t.nextAttemptAt).where(sql`${t.state} in ('queued','failing','running')`),
  index('provisioning_jobs_system_idx').on(t.systemId, t.state),
  check('provisioning_jobs_action_ck', oneOf(t.action, JOB_ACTIONS)),
  check('provisioning_jobs_state_ck', oneOf(t.state, JOB_STATES)),
]);

/**
 * Something a person must look at. `key` identifies the condition (e.g. drift of one account on one
 * system) so that a condition seen again updates its open finding instead of opening another, and
 * a condition no longer seen closes it.
 */
export const findings = pgTable('findings', {
  id: uuid('id').primaryKey(),
  kind: text('kind').$type<FindingKind>().notNull(),
  severity: text('severity').$type<Severity>().notNull(),
  key: text('key').notNull(),
  status: text('status').$type<FindingStatus>().notNull(),
  systemId: uuid('system_id').references(() => systems.id),
  identityId: uuid('identity_id').references(() => identities.id),
  grantId: uuid('grant_id').references(() => grants.id),
  jobId: uuid('job_id'),
  summary: text('summary').notNull(),
  evidence: jsonb('evidence').notNull(),
  ownerId: uuid('owner_id').references(() => identities.id),
  dueAt: ts('due_at'),
  openedAt: ts('opened_at').notNull(),
  lastSeenAt: ts('last_seen_at').notNull(),
  resolvedAt: ts('resolved_at'),
  resolvedBy: uuid('resolved_by'),
  resolution: text('resolution'),
  /** While `accepted`: security accepted the risk as an exception until then; after it, the finding is open again. */
  acceptedUntil: ts('accepted_until'),
}, (t) => [
  uniqueIndex('findings_open_key_uq').on(t.key).where(sql`${t.status} in ('open','accepted')`),
  index('findings_status_idx').on(t.status, t.kind),
  index('findings_system_idx').on(t.systemId, t.status),
  index('findings_opened_idx').on(t.openedAt, t.id),
  check('findings_status_ck', oneOf(t.status, FINDING_STATUSES)),
  check('findings_severity_ck', oneOf(t.severity, SEVERITIES)),
]);

/** One reconciliation of one system: what was compared and what drift was found, for the schedule and the record. */
export const reconciliationRuns = pgTable('reconciliation_runs', {
  id: uuid('id').primaryKey(),
  systemId: uuid('system_id').notNull().references(() => systems.id),
  startedAt: ts('started_at').notNull(),
  finishedAt: ts('finished_at').notNull(),
  actorId: uuid('actor_id'),
  accounts: integer('accounts').notNull(),
  liveGrants: integer('live_grants').notNull(),
  drift: jsonb('drift').notNull(),
  revoked: integer('revoked').notNull(),
  brakeHeld: boolean('brake_held').notNull(),
}, (t) => [index('reconciliation_runs_system_idx').on(t.systemId, t.finishedAt)]);

export const provisioningTables = { provisioningJobs, findings, reconciliationRuns };
