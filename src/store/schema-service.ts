/**
 * Tables of the service: who may call it (tokens, sessions, OIDC links), safe retries (idempotency
 * keys), write rate limits, webhooks (subscriptions, an outbox of deliveries and their attempts),
 * feed cursors and decision-point access events. Part of the one schema (see schema.ts); migrations cover both files.
 */
import { sql } from 'drizzle-orm';
import {
  bigint, boolean, check, index, integer, jsonb, pgTable, primaryKey, text, timestamp, uniqueIndex, uuid, type AnyPgColumn,
} from 'drizzle-orm/pg-core';
import { MAIL_STATUSES, type MailStatus } from '../domain/mail.js';
import type { TokenScope } from '../domain/tokens.js';
import { DELIVERY_STATUSES, type DeliveryStatus } from '../domain/webhooks.js';
import { oneOf } from './checks.js';
import { identities } from './schema.js';

const ts = (name: string) => timestamp(name, { withTimezone: true, mode: 'date' });

/** API tokens: only a SHA-256 of the secret is kept (the secret has 256 random bits, so a fast hash is enough). */
export const apiTokens = pgTable('api_tokens', {
  id: uuid('id').primaryKey(),
  identityId: uuid('identity_id').notNull().references(() => identities.id),
  name: text('name').notNull(),
  scopes: jsonb('scopes').$type<TokenScope[]>().notNull(),
  secretHash: text('secret_hash').notNull(),
  expiresAt: ts('expires_at').notNull(),
  createdAt: ts('created_at').notNull(),
  createdBy: uuid('created_by'),
  revokedAt: ts('revoked_at'),
  revokedBy: uuid('revoked_by'),
  lastUsedAt: ts('last_used_at'),
  /**
   * The token the minting caller authenticated with; null for a root token (minted from a web
   * session or the local CLI). A child never outlives nor outranks its parent and dies with it.
   */
  parentTokenId: uuid('parent_token_id').references((): AnyPgColumn => apiTokens.id),
  /**
   * The person's own MFA sign-in stands behind the token: minted for themselves from a web session
   * that used MFA, or by a token that has it. Never set for a token minted for someone else (a
   * service account): the minter's MFA is theirs. Tenure's proxies present it as the `mfa` context.
   */
  mfa: boolean('mfa').notNull().default(false),
  /** When that MFA sign-in happened (what a condition's `mfa_max_age` measures); null with `mfa`: minted before it was kept, of unknown age. */
  mfaAt: ts('mfa_at'),
}, (t) => [
  uniqueIndex('api_tokens_secret_uq').on(t.secretHash),
  index('api_tokens_identity_idx').on(t.identityId),
  index('api_tokens_parent_idx').on(t.parentTokenId),
]);

/** Web sessions after OIDC sign-in; the cookie holds the secret, the table its hash. */
export const sessions = pgTable('sessions', {
  id: uuid('id').primaryKey(),
  identityId: uuid('identity_id').notNull().references(() => identities.id),
  secretHash: text('secret_hash').notNull(),
  createdAt: ts('created_at').notNull(),
  expiresAt: ts('expires_at').notNull(),
  revokedAt: ts('revoked_at'),
  /** The sign-in used MFA, as the provider's ID token said (amr/acr); see domain/sign-in-mfa.ts. */
  mfa: boolean('mfa').notNull().default(false),
  /** When the MFA was performed: the ID token's auth_time, never later than the sign-in (domain/sign-in-mfa.ts mfaPerformedAt); null with `mfa`: opened before it was kept. */
  mfaAt: ts('mfa_at'),
}, (t) => [
  uniqueIndex('sessions_secret_uq').on(t.secretHash),
  index('sessions_identity_idx').on(t.identityId),
]);

/** Which identity an OpenID provider's subject signs in as; bound on first sign-in by verified email. */
export const externalSubjects = pgTable('external_subjects', {
  issuer: text('issuer').notNull(),
  subject: text('subject').notNull(),
  identityId: uuid('identity_id').notNull().references(() => identities.id),
  createdAt: ts('created_at').notNull(),
}, (t) => [primaryKey({ columns: [t.issuer, t.subject] })]);

/** An OIDC sign-in in flight (state, nonce and PKCE verifier), kept server-side so any server can finish it. */
export const oidcLogins = pgTable('oidc_logins', {
  state: text('state').primaryKey(),
  nonce: text('nonce').notNull(),
  codeVerifier: text('code_verifier').notNull(),
  returnTo: text('return_to').notNull(),
  expiresAt: ts('expires_at').notNull(),
});

/** A write's outcome under its Idempotency-Key: a retry gets the stored answer instead of a second write. */
export const idempotencyKeys = pgTable('idempotency_keys', {
  principal: text('principal').notNull(),
  key: text('key').notNull(),
  route: text('route').notNull(),
  requestHash: text('request_hash').notNull(),
  statusCode: integer('status_code'),
  response: jsonb('response'),
  createdAt: ts('created_at').notNull(),
  lockedUntil: ts('locked_until').notNull(),
  /**
   * Set by the request's own unit of work, in its commit: a write whose COMMIT was acknowledged to
   * nobody (the connection broke while committing) is then known to have happened, and a retry is
   * refused instead of running it twice.
   */
  committedAt: ts('committed_at'),
}, (t) => [primaryKey({ columns: [t.principal, t.key] })]);

/**
 * Writes counted per budget (an identity, or a client address when anonymous) and fixed minute:
 * every server process increments the same row, so the limit holds however many run. Rows of past
 * minutes are deleted by housekeeping.
 */
export const writeRateLimits = pgTable('write_rate_limits', {
  budget: text('budget').notNull(),
  windowStart: ts('window_start').notNull(),
  count: integer('count').notNull(),
}, (t) => [primaryKey({ columns: [t.budget, t.windowStart] })]);

export const webhookSubscriptions = pgTable('webhook_subscriptions', {
  id: uuid('id').primaryKey(),
  /**
   * The URL as shown (redacted: scheme, host and port; see webhooks/url.ts). Rows made before the
   * URL was encrypted hold the full URL here and no url_ciphertext; they are still shown redacted.
   */
  url: text('url').notNull(),
  /** AES-256-GCM ciphertext of the full URL, which may carry a credential in its path or query; deliveries use it. */
  urlCiphertext: text('url_ciphertext'),
  eventTypes: jsonb('event_types').$type<string[]>().notNull(),
  /** AES-256-GCM ciphertext of the signing secret (v2.kid.iv.tag.data, or iv.tag.data from before the key ring; see webhooks/crypto.ts). */
  secretCiphertext: text('secret_ciphertext').notNull(),
  /**
   * After a rotation, the secret it replaced (encrypted the same way, under its own context) and
   * until when deliveries are signed with it too, so receivers can switch without losing one.
   */
  previousSecretCiphertext: text('previous_secret_ciphertext'),
  previousSecretUntil: ts('previous_secret_until'),
  createdBy: uuid('created_by'),
  createdAt: ts('created_at').notNull(),
  disabledAt: ts('disabled_at'),
});

/** The webhook outbox: one row per (subscription, event), delivered with retries until it succeeds or gives up. */
export const webhookDeliveries = pgTable('webhook_deliveries', {
  id: uuid('id').primaryKey(),
  subscriptionId: uuid('subscription_id').notNull().references(() => webhookSubscriptions.id),
  eventKey: text('event_key').notNull(),
  eventType: text('event_type').notNull(),
  payload: jsonb('payload').notNull(),
  status: text('status').$type<DeliveryStatus>().notNull(),
  attempts: integer('attempts').notNull().default(0),
  nextAttemptAt: ts('next_attempt_at').notNull(),
  lockedUntil: ts('locked_until'),
  lastError: text('last_error'),
  deliveredAt: ts('delivered_at'),
  createdAt: ts('created_at').notNull(),
}, (t) => [
  uniqueIndex('webhook_deliveries_event_uq').on(t.subscriptionId, t.eventKey),
  index('webhook_deliveries_due_idx').on(t.nextAttemptAt).where(sql`${t.status} = 'pending'`),
  check('webhook_deliveries_status_ck', oneOf(t.status, DELIVERY_STATUSES)),
]);

export const webhookAttempts = pgTable('webhook_attempts', {
  deliveryId: uuid('delivery_id').notNull().references(() => webhookDeliveries.id),
  attempt: integer('attempt').notNull(),
  startedAt: ts('started_at').notNull(),
  finishedAt: ts('finished_at'),
  statusCode: integer('status_code'),
  error: text('error'),
}, (t) => [primaryKey({ columns: [t.deliveryId, t.attempt] })]);

/** How far a reader of the audit log (the webhook dispatcher) has got; locked while it advances. */
export const feedCursors = pgTable('feed_cursors', {
  name: text('name').primaryKey(),
  seq: bigint('seq', { mode: 'number' }).notNull(),
});

/**
 * The mail outbox: one row per (recipient, event), written in the transaction that moves the `mail`
 * feed cursor (mail/dispatch.ts). The message is rendered when the row is written, so a retry sends
 * the same text. `batch_id` is the message a row went out in (its own id, or a daily digest shared
 * by several rows) and gives the stable Message-ID that makes a repeated send recognisable.
 */
export const mailOutbox = pgTable('mail_outbox', {
  id: uuid('id').primaryKey(),
  /** Who the event concerns; the address may be someone else's when they have none (see docs/notifications.md). */
  identityId: uuid('identity_id').notNull().references(() => identities.id),
  address: text('address'),
  eventKey: text('event_key').notNull(),
  kind: text('kind').notNull(),
  urgent: boolean('urgent').notNull(),
  subject: text('subject').notNull(),
  text: text('text').notNull(),
  html: text('html').notNull(),
  status: text('status').$type<MailStatus>().notNull(),
  /** Set on a row held for a daily digest: it goes out with the others of its recipient at next_attempt_at. */
  digest: boolean('digest').notNull().default(false),
  batchId: uuid('batch_id'),
  attempts: integer('attempts').notNull().default(0),
  nextAttemptAt: ts('next_attempt_at').notNull(),
  lockedUntil: ts('locked_until'),
  lastError: text('last_error'),
  sentAt: ts('sent_at'),
  createdAt: ts('created_at').notNull(),
}, (t) => [
  uniqueIndex('mail_outbox_event_uq').on(t.identityId, t.eventKey),
  index('mail_outbox_due_idx').on(t.nextAttemptAt).where(sql`${t.status} = 'pending'`),
  check('mail_outbox_status_ck', oneOf(t.status, MAIL_STATUSES)),
]);

/** Decision-point answers kept for attribution (all or a sample, see TENURE_ACCESS_LOG). */
export const accessEvents = pgTable('access_events', {
  id: uuid('id').primaryKey(),
  at: ts('at').notNull(),
  identityId: uuid('identity_id'),
  entitlementKey: text('entitlement_key'),
  systemKey: text('system_key'),
  action: text('action'),
  allowed: boolean('allowed').notNull(),
  reason: text('reason').notNull(),
  grantId: uuid('grant_id'),
  context: jsonb('context'),
}, (t) => [index('access_events_identity_idx').on(t.identityId, t.at)]);

export const serviceTables = {
  apiTokens, sessions, externalSubjects, oidcLogins, idempotencyKeys, writeRateLimits,
  webhookSubscriptions, webhookDeliveries, webhookAttempts, feedCursors, accessEvents, mailOutbox,
};
