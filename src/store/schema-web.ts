/**
 * The web console's own table: one-time sign-in links that `tenure serve --demo` prints for the demo
 * personas. Only a SHA-256 of each link's secret is kept (256 random bits, so a fast hash is enough);
 * a link is used at most once (`used_at`) and not after `expires_at`. Part of the one schema.
 */
import { index, pgTable, text, timestamp, uniqueIndex, uuid } from 'drizzle-orm/pg-core';
import { identities } from './schema.js';

const ts = (name: string) => timestamp(name, { withTimezone: true, mode: 'date' });

export const demoSignInLinks = pgTable('demo_sign_in_links', {
  id: uuid('id').primaryKey(),
  identityId: uuid('identity_id').notNull().references(() => identities.id),
  secretHash: text('secret_hash').notNull(),
  createdAt: ts('created_at').notNull(),
  expiresAt: ts('expires_at').notNull(),
  usedAt: ts('used_at'),
}, (t) => [
  uniqueIndex('demo_sign_in_links_secret_uq').on(t.secretHash),
  index('demo_sign_in_links_expires_idx').on(t.expiresAt),
]);

export const webTables = { demoSignInLinks };
