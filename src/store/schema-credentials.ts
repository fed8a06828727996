/**
 * Credentials of identities (mostly service accounts): registered by fingerprint, never by secret,
 * with the dates that rotation and expiry rules need. Part of the one schema.
 */
import { sql } from 'drizzle-orm';
import { check, index, pgTable, text, timestamp, uniqueIndex, uuid } from 'drizzle-orm/pg-core';
import { CREDENTIAL_STATUSES, type CredentialKind, type CredentialStatus } from '../domain/credentials.js';
import { oneOf } from './checks.js';
import { identities, systems } from './schema.js';

const ts = (name: string) => timestamp(name, { withTimezone: true, mode: 'date' });

export const credentials = pgTable('credentials', {
  id: uuid('id').primaryKey(),
  identityId: uuid('identity_id').notNull().references(() => identities.id),
  systemId: uuid('system_id').references(() => systems.id),
  kind: text('kind').$type<CredentialKind>().notNull(),
  name: text('name').notNull(),
  /** A fingerprint of the secret (e.g. `SHA256:…` of a key, a hash of a token): identifies it without revealing it. */
  fingerprint: text('fingerprint').notNull(),
  createdAt: ts('created_at').notNull(),
  lastRotatedAt: ts('last_rotated_at').notNull(),
  expiresAt: ts('expires_at'),
  lastUsedAt: ts('last_used_at'),
  status: text('status').$type<CredentialStatus>().notNull(),
  registeredBy: uuid('registered_by').notNull(),
  retiredAt: ts('retired_at'),
  /**
   * Set when the secret must be revoked where it works and the credential retired, though nobody has
   * confirmed it yet (its service account's vendor contract ended; migration 0019). Tenure never
   * holds the secret, so it flags rather than retires.
   */
  retirementDueAt: ts('retirement_due_at'),
}, (t) => [
  uniqueIndex('credentials_fingerprint_uq').on(t.fingerprint).where(sql`${t.status} = 'active'`),
  index('credentials_identity_idx').on(t.identityId, t.status),
  check('credentials_status_ck', oneOf(t.status, CREDENTIAL_STATUSES)),
]);

export const credentialsTables = { credentials };
