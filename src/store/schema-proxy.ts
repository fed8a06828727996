/**
 * Sessions mediated by Tenure's access proxy (issue 18): who connected, under which grant, to which
 * system and account, from where, when it started and ended and why, and the SHA-256 of its
 * recording. The recording itself is the ordered list of statement records; the digest of their
 * canonical text (domain/proxy-recording.ts) is what the `proxy_session.ended` audit event carries.
 * Distinct from `sessions` (web sign-in sessions). Part of the one schema (see schema.ts).
 */
import { bigint, index, integer, pgTable, primaryKey, text, timestamp, uuid } from 'drizzle-orm/pg-core';
import { entitlements, grants, identities, systems } from './schema.js';

const ts = (name: string) => timestamp(name, { withTimezone: true, mode: 'date' });

export const proxySessions = pgTable('proxy_sessions', {
  id: uuid('id').primaryKey(),
  protocol: text('protocol').notNull(),
  identityId: uuid('identity_id').notNull().references(() => identities.id),
  grantId: uuid('grant_id').notNull().references(() => grants.id),
  systemId: uuid('system_id').notNull().references(() => systems.id),
  entitlementId: uuid('entitlement_id').notNull().references(() => entitlements.id),
  /** The account in the target the proxy signed in as (PostgreSQL: the person's login role). */
  account: text('account').notNull(),
  /** The role the session acts as (PostgreSQL: the grant's entitlement role, taken with SET ROLE). */
  role: text('role').notNull(),
  clientAddress: text('client_address').notNull(),
  startedAt: ts('started_at').notNull(),
  endedAt: ts('ended_at'),
  /** client_closed, grant_ended, grant_revoked, access_denied, upstream_closed, protocol_error, proxy_stopped. */
  endReason: text('end_reason'),
  statementCount: integer('statement_count'),
  recordingSha256: text('recording_sha256'),
  /** When retention deleted its statement lines (the row and its digest stay): verification then says `purged`. */
  recordingPurgedAt: ts('recording_purged_at'),
}, (t) => [
  index('proxy_sessions_grant_idx').on(t.grantId),
  index('proxy_sessions_identity_idx').on(t.identityId),
  index('proxy_sessions_open_idx').on(t.endedAt),
]);

/** One statement of a recording: its canonical JSON text, exactly as hashed. */
export const proxyStatements = pgTable('proxy_statements', {
  sessionId: uuid('session_id').notNull().references(() => proxySessions.id),
  seq: bigint('seq', { mode: 'number' }).notNull(),
  record: text('record').notNull(),
}, (t) => [primaryKey({ columns: [t.sessionId, t.seq] })]);

export const proxyTables = { proxySessions, proxyStatements };
