/**
 * The one schema for both backends (PGlite and a PostgreSQL server). SQL here must be accepted by
 * PostgreSQL 15 (Debian) and 18 (PGlite). Migrations are generated from this file by drizzle-kit.
 */
import { sql } from 'drizzle-orm';
import {
  type AnyPgColumn, bigint, boolean, check, index, integer, jsonb, pgTable, primaryKey, text, timestamp, uniqueIndex, uuid,
} from 'drizzle-orm/pg-core';
import {
  ALL_REQUEST_KINDS, GRANT_ORIGINS, GRANT_STATUSES, IDENTITY_KINDS, IDENTITY_STATUSES, REQUEST_STATUSES, TIERS, type Criticality, type DataSensitivity, type EngagementPattern, type EngagementStatus,
  type GrantOrigin, type GrantStatus, type IdentityKind, type IdentityStatus, type RequestKind, type RequestStatus, type Role,
  type RoleSource, type StageKind, type Tier, type VendorKind,
} from '../domain/model.js';
import { MAIL_DELIVERY_MODES, type MailDeliveryMode } from '../domain/mail.js';
import type { ProvisioningState } from '../domain/provisioning.js';
import { oneOf } from './checks.js';

const ts = (name: string) => timestamp(name, { withTimezone: true, mode: 'date' });

export const identities = pgTable('identities', {
  id: uuid('id').primaryKey(),
  handle: text('handle').notNull(),
  displayName: text('display_name').notNull(),
  email: text('email'),
  /** Non-urgent mail at once, or gathered into one message a day (docs/notifications.md). */
  mailDelivery: text('mail_delivery').$type<MailDeliveryMode>().notNull().default('immediate'),
  kind: text('kind').$type<IdentityKind>().notNull(),
  status: text('status').$type<IdentityStatus>().notNull(),
  managerId: uuid('manager_id'),
  sponsorId: uuid('sponsor_id'),
  ownerId: uuid('owner_id'),
  /** A person's vendor as recorded (their employer); never set on a service account, whose vendor is its operator. */
  vendorId: uuid('vendor_id'),
  /**
   * A service account a vendor runs for us (migration 0019): the vendor's contract end suspends it.
   * A service account's one vendor link (migration 0020), so at most one of the two columns is set.
   */
  operatedByVendorId: uuid('operated_by_vendor_id').references((): AnyPgColumn => vendors.id),
  department: text('department'),
  title: text('title'),
  /** HR attributes (set by the HR feed): the employee id that matches sources, and what birthright profiles read. */
  employeeId: text('employee_id'),
  location: text('location'),
  employmentClass: text('employment_class'),
  /** The end date HR gave (a contractor's contract end); when it passes the person is a leaver. */
  hrEndsAt: ts('hr_ends_at'),
  /** Who created this identity (null: the system, bootstrap or a migration that could not tell); a party to its requests. */
  createdBy: uuid('created_by'),
  createdAt: ts('created_at').notNull(),
  updatedAt: ts('updated_at').notNull(),
}, (t) => [
  uniqueIndex('identities_handle_uq').on(t.handle),
  uniqueIndex('identities_employee_id_uq').on(t.employeeId).where(sql`${t.employeeId} is not null`),
  // HR events match people by email whatever its case.
  index('identities_email_idx').on(sql`lower(${t.email})`),
  index('identities_owner_idx').on(t.ownerId),
  index('identities_hr_end_idx').on(t.hrEndsAt).where(sql`${t.status} = 'active' and ${t.hrEndsAt} is not null`),
  index('identities_sponsor_idx').on(t.sponsorId),
  index('identities_operated_by_vendor_idx').on(t.operatedByVendorId).where(sql`${t.operatedByVendorId} is not null`),
  // Only non-human identities are operated by a vendor; a vendor's people belong to it through engagements.
  check('identities_operated_by_vendor_ck', sql`${t.operatedByVendorId} is null or ${t.kind} = 'service_account'`),
  // ...and a service account's vendor is only ever its operator, so the vendor's end cannot miss it.
  check('identities_service_account_vendor_ck', sql`${t.vendorId} is null or ${t.kind} <> 'service_account'`),
  check('identities_kind_ck', oneOf(t.kind, IDENTITY_KINDS)),
  check('identities_status_ck', oneOf(t.status, IDENTITY_STATUSES)),
  check('identities_mail_delivery_ck', oneOf(t.mailDelivery, MAIL_DELIVERY_MODES)),
  // A reference that looks like an id names an id (store/queries/identities.ts): a handle never may (migration 0014).
  check('identities_handle_not_uuid_ck', sql`${t.handle} !~* '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$'`),
]);

export const roleAssignments = pgTable('role_assignments', {
  identityId: uuid('identity_id').notNull().references(() => identities.id),
  role: text('role').$type<Role>().notNull(),
  source: text('source').$type<RoleSource>().notNull(),
}, (t) => [primaryKey({ columns: [t.identityId, t.role, t.source] })]);

export const vendors = pgTable('vendors', {
  id: uuid('id').primaryKey(),
  name: text('name').notNull(),
  kind: text('kind').$type<VendorKind>().notNull(),
  relationshipOwnerId: uuid('relationship_owner_id').notNull().references(() => identities.id),
  contractEnd: ts('contract_end').notNull(),
  createdAt: ts('created_at').notNull(),
  /**
   * When the contract end was carried out (engagements ended, operated service accounts suspended):
   * the worker's pass does it once; moving the end later again clears it (migration 0019).
   */
  endAppliedAt: ts('end_applied_at'),
  /** When the relationship owner was last reminded that the contract ends (like engagements' expiry_notice_at). */
  expiryNoticeAt: ts('expiry_notice_at'),
}, (t) => [
  uniqueIndex('vendors_name_uq').on(t.name),
  index('vendors_due_idx').on(t.contractEnd).where(sql`${t.endAppliedAt} is null`),
]);

export const engagements = pgTable('engagements', {
  id: uuid('id').primaryKey(),
  identityId: uuid('identity_id').notNull().references(() => identities.id),
  vendorId: uuid('vendor_id').notNull().references(() => vendors.id),
  sponsorId: uuid('sponsor_id').notNull().references(() => identities.id),
  businessFunction: text('business_function').notNull(),
  purpose: text('purpose').notNull(),
  pattern: text('pattern').$type<EngagementPattern>().notNull(),
  startsAt: ts('starts_at').notNull(),
  endsAt: ts('ends_at').notNull(),
  dataSensitivity: text('data_sensitivity').$type<DataSensitivity>().notNull(),
  scope: jsonb('scope').$type<string[]>().notNull(),
  status: text('status').$type<EngagementStatus>().notNull(),
  endedAt: ts('ended_at'),
  endReason: text('end_reason'),
  createdAt: ts('created_at').notNull(),
  /** When the sponsor was last reminded that the engagement ends (webhook `engagement.expiring_soon`). */
  expiryNoticeAt: ts('expiry_notice_at'),
}, (t) => [
  index('engagements_identity_idx').on(t.identityId),
  index('engagements_sponsor_idx').on(t.sponsorId),
  index('engagements_due_idx').on(t.status, t.endsAt),
]);

export const systems = pgTable('systems', {
  id: uuid('id').primaryKey(),
  key: text('key').notNull(),
  name: text('name').notNull(),
  businessOwnerId: uuid('business_owner_id').notNull().references(() => identities.id),
  technicalOwnerId: uuid('technical_owner_id').notNull().references(() => identities.id),
  criticality: text('criticality').$type<Criticality>().notNull(),
  retired: boolean('retired').notNull().default(false),
}, (t) => [uniqueIndex('systems_key_uq').on(t.key)]);

export const entitlements = pgTable('entitlements', {
  id: uuid('id').primaryKey(),
  key: text('key').notNull(),
  systemId: uuid('system_id').notNull().references(() => systems.id),
  name: text('name').notNull(),
  tier: text('tier').$type<Tier>().notNull(),
  maxDurationMs: bigint('max_duration_ms', { mode: 'number' }),
  /** A shared operational account (policy `shared_accounts`): one holder at a time, used only through the proxy, rotated after. */
  sharedAccount: boolean('shared_account').notNull().default(false),
  retired: boolean('retired').notNull().default(false),
}, (t) => [
  uniqueIndex('entitlements_key_uq').on(t.key),
  check('entitlements_tier_ck', oneOf(t.tier, TIERS)),
]);

/** The applied policy document: durations, routing, roles and SoD rules are read from here. */
export const policyState = pgTable('policy_state', {
  id: integer('id').primaryKey(),
  document: jsonb('document').notNull(),
  digest: text('digest').notNull(),
  appliedAt: ts('applied_at').notNull(),
  appliedBy: uuid('applied_by'),
  /** New at every apply, so a process may keep the document it parsed until this changes (policy/applied.ts). */
  revision: uuid('revision').notNull().defaultRandom(),
});

export const accessRequests = pgTable('access_requests', {
  id: uuid('id').primaryKey(),
  kind: text('kind').$type<RequestKind>().notNull(),
  requesterId: uuid('requester_id').notNull().references(() => identities.id),
  beneficiaryId: uuid('beneficiary_id').notNull().references(() => identities.id),
  entitlementId: uuid('entitlement_id').notNull().references(() => entitlements.id),
  engagementId: uuid('engagement_id').references(() => engagements.id),
  targetGrantId: uuid('target_grant_id'),
  justification: text('justification').notNull(),
  ticket: text('ticket'),
  startsAt: ts('starts_at').notNull(),
  endsAt: ts('ends_at').notNull(),
  /**
   * Set when the request asked for a length of time rather than a window: the grant's clock then
   * starts at the final approval, and starts_at/ends_at are the window as it would be if approved now
   * (rewritten to the real window when it is). Null for an explicit window.
   */
  durationMs: bigint('duration_ms', { mode: 'number' }),
  outOfScope: boolean('out_of_scope').notNull(),
  status: text('status').$type<RequestStatus>().notNull(),
  expiresAt: ts('expires_at').notNull(),
  decidedAt: ts('decided_at'),
  decisionReason: text('decision_reason'),
  grantId: uuid('grant_id'),
  /**
   * A check-out queued for a shared account: its place in the account's line, one more than the
   * last ever taken, under the account's row lock (check-out-queue.ts), so places never tie.
   */
  queueSeq: integer('queue_seq'),
  /** Who minted the credential the requester filed with, when not the requester: a party to the request. */
  requesterIssuerId: uuid('requester_issuer_id'),
  createdAt: ts('created_at').notNull(),
}, (t) => [
  index('requests_beneficiary_idx').on(t.beneficiaryId, t.status),
  index('requests_requester_idx').on(t.requesterId, t.status),
  index('requests_due_idx').on(t.status, t.expiresAt),
  index('requests_created_idx').on(t.createdAt, t.id),
  check('requests_status_ck', oneOf(t.status, REQUEST_STATUSES)),
  check('requests_kind_ck', oneOf(t.kind, ALL_REQUEST_KINDS)),
]);

export const requestStages = pgTable('request_stages', {
  requestId: uuid('request_id').notNull().references(() => accessRequests.id),
  position: integer('position').notNull(),
  kind: text('kind').$type<StageKind>().notNull(),
  approverIds: jsonb('approver_ids').$type<string[]>().notNull(),
  usesAlternates: boolean('uses_alternates').notNull(),
  /** When the stage, waiting past the policy's approval.escalate_after, was opened to its alternates (once). */
  escalatedAt: ts('escalated_at'),
  status: text('status').$type<RequestStatus>().notNull(),
  decidedBy: uuid('decided_by'),
  decidedAt: ts('decided_at'),
  comment: text('comment'),
}, (t) => [
  primaryKey({ columns: [t.requestId, t.position] }),
]);

/**
 * Who is asked to decide each pending request now: the approvers of its first pending stage, less
 * anyone who decided a stage of it. Derived from the stages by triggers (migration 0016), never
 * written by the application, so that the inbox is a range scan of the primary key in its own order
 * (oldest first) that stops at the page limit. created_at is the request's, which never changes.
 */
export const requestCurrentApprovers = pgTable('request_current_approvers', {
  identityId: uuid('identity_id').notNull(),
  createdAt: ts('created_at').notNull(),
  requestId: uuid('request_id').notNull().references(() => accessRequests.id),
}, (t) => [
  primaryKey({ name: 'request_current_approvers_pk', columns: [t.identityId, t.createdAt, t.requestId] }),
  index('request_current_approvers_request_idx').on(t.requestId),
]);

export const exceptions = pgTable('exceptions', {
  id: uuid('id').primaryKey(),
  kind: text('kind').notNull(),
  requestId: uuid('request_id').references(() => accessRequests.id),
  identityId: uuid('identity_id').notNull().references(() => identities.id),
  entitlementId: uuid('entitlement_id').references(() => entitlements.id),
  approverId: uuid('approver_id').notNull().references(() => identities.id),
  justification: text('justification').notNull(),
  expiresAt: ts('expires_at').notNull(),
  createdAt: ts('created_at').notNull(),
});

export const grants = pgTable('grants', {
  id: uuid('id').primaryKey(),
  identityId: uuid('identity_id').notNull().references(() => identities.id),
  entitlementId: uuid('entitlement_id').notNull().references(() => entitlements.id),
  engagementId: uuid('engagement_id').references(() => engagements.id),
  requestId: uuid('request_id').references(() => accessRequests.id),
  exceptionId: uuid('exception_id').references(() => exceptions.id),
  origin: text('origin').$type<GrantOrigin>().notNull(),
  startsAt: ts('starts_at').notNull(),
  endsAt: ts('ends_at'),
  status: text('status').$type<GrantStatus>().notNull(),
  provisioningState: text('provisioning_state').$type<ProvisioningState>().notNull(),
  /** When the target last confirmed the provisioning state, and how (connector outcome, read-back, or who confirmed a manual task). */
  provisioningConfirmedAt: ts('provisioning_confirmed_at'),
  provisioningEvidence: jsonb('provisioning_evidence'),
  endedAt: ts('ended_at'),
  endedBy: uuid('ended_by'),
  endReason: text('end_reason'),
  /** When the holder and sponsor were last reminded that the grant ends (webhook `grant.expiring_soon`), once per reminder. */
  expiryNoticeAt: ts('expiry_notice_at'),
  /** When the holder last took a credential Tenure minted for the target (never the credential itself). */
  credentialIssuedAt: ts('credential_issued_at'),
  createdAt: ts('created_at').notNull(),
}, (t) => [
  index('grants_identity_idx').on(t.identityId, t.status),
  // Partial: only live grants are ever due, and an ended grant's new row version then adds no entry.
  index('grants_due_idx').on(t.endsAt).where(sql`${t.status} in ('scheduled','active')`),
  index('grants_start_idx').on(t.startsAt).where(sql`${t.status} = 'scheduled'`),
  index('grants_engagement_idx').on(t.engagementId),
  // Lists page newest first by (created_at, id): the first page of a million grants is read off this index, not sorted.
  index('grants_created_idx').on(t.createdAt, t.id),
  // Who holds an entitlement now (separation-of-duties scans): live grants only, as the due index.
  index('grants_entitlement_live_idx').on(t.entitlementId).where(sql`${t.status} in ('scheduled','active')`),
  check('grants_status_ck', oneOf(t.status, GRANT_STATUSES)),
  // Access comes only by an approved path: a request (which names it), birthright, or break-glass.
  check('grants_origin_ck', sql`${oneOf(t.origin, GRANT_ORIGINS.filter((o) => o !== 'request'))} or (${t.origin} = 'request' and ${t.requestId} is not null)`),
]);

/** Append-only (a trigger refuses UPDATE and DELETE); each row is chained to the one before. */
export const auditEvents = pgTable('audit_events', {
  seq: bigint('seq', { mode: 'number' }).primaryKey(),
  occurredAt: ts('occurred_at').notNull(),
  action: text('action').notNull(),
  actorId: uuid('actor_id'),
  channel: text('channel').notNull(),
  subjectType: text('subject_type').notNull(),
  subjectId: text('subject_id').notNull(),
  identityId: uuid('identity_id'),
  systemId: uuid('system_id'),
  canonical: text('canonical').notNull(),
  hash: text('hash').notNull(),
}, (t) => [
  index('audit_identity_idx').on(t.identityId, t.seq),
  index('audit_system_idx').on(t.systemId, t.seq),
  index('audit_action_idx').on(t.action, t.seq),
  index('audit_time_idx').on(t.occurredAt),
]);

/** One row: the head of the chain. Locking it serialises appenders so the chain never forks. */
export const auditHead = pgTable('audit_head', {
  id: integer('id').primaryKey(),
  seq: bigint('seq', { mode: 'number' }).notNull(),
  hash: text('hash').notNull(),
});

export const auditCheckpoints = pgTable('audit_checkpoints', {
  seq: bigint('seq', { mode: 'number' }).primaryKey(),
  hash: text('hash').notNull(),
  signedAt: ts('signed_at').notNull(),
  keyId: text('key_id').notNull(),
  signature: text('signature').notNull(),
});

export const coreTables = {
  identities, roleAssignments, vendors, engagements, systems, entitlements, policyState,
  accessRequests, requestStages, requestCurrentApprovers, exceptions, grants, auditEvents, auditHead, auditCheckpoints,
};
