/**
 * Webhook data for access reviews (campaigns, their items, decisions) and for registered credentials:
 * ids, handles and keys, looked up by id. Never a secret: a credential is named by its fingerprint,
 * which identifies it without revealing it; a review item carries no evidence beyond what says which
 * grant is reviewed (the approval history stays behind the API's permissions).
 */
import { eq, inArray } from 'drizzle-orm';
import { alias } from 'drizzle-orm/pg-core';
import type { Executor } from '../store/database.js';
import { identities, systems } from '../store/schema.js';
import { credentials } from '../store/schema-credentials.js';
import { reviewCampaigns, reviewItems } from '../store/schema-reviews.js';

const reviewers = alias(identities, 'reviewer');
const deciders = alias(identities, 'decider');
const iso = (value: Date | null) => (value ? value.toISOString() : null);

type ItemRow = { i: typeof reviewItems.$inferSelect; c: typeof reviewCampaigns.$inferSelect; holder: string; reviewer: string; decidedBy: string | null };

const itemData = ({ i, c, holder, reviewer, decidedBy }: ItemRow): Record<string, unknown> => ({
  itemId: i.id, campaignId: c.id, campaign: c.name, grantId: i.grantId, identity: holder, entitlement: i.evidence.entitlement,
  reviewer, status: i.status, undecided: i.undecided, dueAt: c.dueAt.toISOString(), decidedBy, decidedAt: iso(i.decidedAt), newEndsAt: iso(i.newEndsAt),
});

const selectItems = (exec: Executor) => exec.select({ i: reviewItems, c: reviewCampaigns, holder: identities.handle, reviewer: reviewers.handle, decidedBy: deciders.handle })
  .from(reviewItems)
  .innerJoin(reviewCampaigns, eq(reviewCampaigns.id, reviewItems.campaignId))
  .innerJoin(identities, eq(identities.id, reviewItems.identityId))
  .innerJoin(reviewers, eq(reviewers.id, reviewItems.reviewerId))
  .leftJoin(deciders, eq(deciders.id, reviewItems.decidedBy));

/** Review items by item id, as they are now (normally seconds after the decision). */
export const loadReviewItems = async (exec: Executor, ids: string[]): Promise<Map<string, Record<string, unknown>>> => {
  if (ids.length === 0) return new Map();
  const rows = await selectItems(exec).where(inArray(reviewItems.id, ids));
  return new Map(rows.map((row) => [row.i.id, itemData(row)]));
};

/** The items each campaign opened with, in a stable order (by id), for one `review.item_assigned` each. */
export const loadCampaignItems = async (exec: Executor, campaignIds: string[]): Promise<Map<string, Record<string, unknown>[]>> => {
  if (campaignIds.length === 0) return new Map();
  const rows = await selectItems(exec).where(inArray(reviewItems.campaignId, campaignIds));
  const byCampaign = new Map<string, Record<string, unknown>[]>();
  for (const row of rows.sort((a, b) => a.i.id.localeCompare(b.i.id))) {
    byCampaign.set(row.c.id, [...(byCampaign.get(row.c.id) ?? []), itemData(row)]);
  }
  return byCampaign;
};

export const loadCredentials = async (exec: Executor, ids: string[]): Promise<Map<string, Record<string, unknown>>> => {
  if (ids.length === 0) return new Map();
  const rows = await exec.select({ k: credentials, identity: identities.handle, system: systems.key }).from(credentials)
    .innerJoin(identities, eq(identities.id, credentials.identityId))
    .leftJoin(systems, eq(systems.id, credentials.systemId))
    .where(inArray(credentials.id, ids));
  return new Map(rows.map(({ k, identity, system }) => [k.id, {
    credentialId: k.id, name: k.name, kind: k.kind, identity, system, fingerprint: k.fingerprint, status: k.status,
    lastRotatedAt: iso(k.lastRotatedAt), expiresAt: iso(k.expiresAt), retiredAt: iso(k.retiredAt),
  }]));
};
