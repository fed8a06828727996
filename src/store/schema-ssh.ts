/**
 * SSH certificates Tenure issued: the record of who got which certificate for which grant, and
 * until when. The certificate itself is not kept (it is no secret, but it is not needed either:
 * revocation works by key id, which is the grant id), nor the user's public key, only its
 * fingerprint. Part of the one schema (see schema.ts); migrations cover every schema file.
 */
import { bigint, boolean, index, jsonb, pgSequence, pgTable, text, timestamp, uniqueIndex, uuid } from 'drizzle-orm/pg-core';
import { grants, identities, systems } from './schema.js';

const ts = (name: string) => timestamp(name, { withTimezone: true, mode: 'date' });

/**
 * Certificate serials, one sequence for every CA: a KRL may revoke by serial, and serials must not
 * repeat across a CA rotation. Starts at 1 (zero means "no serial" to OpenSSH).
 */
export const sshCertificateSerials = pgSequence('ssh_certificate_serials', { startWith: 1, minValue: 1 });

export const sshCertificates = pgTable('ssh_certificates', {
  id: uuid('id').primaryKey(),
  /** Taken from the sequence before signing, since it is part of what is signed. */
  serial: bigint('serial', { mode: 'bigint' }).notNull(),
  grantId: uuid('grant_id').notNull().references(() => grants.id),
  identityId: uuid('identity_id').notNull().references(() => identities.id),
  systemId: uuid('system_id').notNull().references(() => systems.id),
  /** The grant id: a KRL `id:` entry with it revokes every certificate of the grant. */
  keyId: text('key_id').notNull(),
  principals: jsonb('principals').$type<string[]>().notNull(),
  publicKeyFingerprint: text('public_key_fingerprint').notNull(),
  caFingerprint: text('ca_fingerprint').notNull(),
  validAfter: ts('valid_after').notNull(),
  validBefore: ts('valid_before').notNull(),
  issuedAt: ts('issued_at').notNull(),
  issuedBy: uuid('issued_by').notNull(),
  /** The credential that asked for it (web session or token) stood on the holder's own MFA sign-in; the SSH proxy presents it as the `mfa` context. */
  mfa: boolean('mfa').notNull().default(false),
  /** When that MFA sign-in happened; null with `mfa`: issued before it was kept, of unknown age. */
  mfaAt: ts('mfa_at'),
}, (t) => [
  uniqueIndex('ssh_certificates_serial_uq').on(t.serial),
  index('ssh_certificates_grant_idx').on(t.grantId),
  index('ssh_certificates_valid_before_idx').on(t.validBefore),
]);

/**
 * The upstream CAs SSH proxies sign in to hosts with, by fingerprint, as each proxy registers its own
 * when it starts. Hosts trust these CAs for the proxied accounts, so `tenure ssh sign` never
 * certifies a person's key with one of them, whatever a policy applied later names as `ca_key`.
 */
export const sshUpstreamCas = pgTable('ssh_upstream_cas', {
  fingerprint: text('fingerprint').primaryKey(),
  firstSeenAt: ts('first_seen_at').notNull(),
  lastSeenAt: ts('last_seen_at').notNull(),
});

/** Tables for the drizzle client; the sequence is found by drizzle-kit in this file's exports. */
export const sshTables = { sshCertificates, sshUpstreamCas };
