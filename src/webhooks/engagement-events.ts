/**
 * Webhook data for engagement reminders (whose engagement, with which vendor, who sponsors it, when it
 * ends) and vendor reminders (which vendor, who owns the relationship, when the contract ends, what it reaches).
 */
import { and, count, eq, inArray } from 'drizzle-orm';
import { alias } from 'drizzle-orm/pg-core';
import type { Executor } from '../store/database.js';
import { engagements, identities, vendors } from '../store/schema.js';

const sponsors = alias(identities, 'sponsor');

export const loadEngagements = async (exec: Executor, ids: string[]): Promise<Map<string, Record<string, unknown>>> => {
  if (ids.length === 0) return new Map();
  const rows = await exec.select({ e: engagements, identity: identities.handle, sponsor: sponsors.handle, vendor: vendors.name })
    .from(engagements)
    .innerJoin(identities, eq(identities.id, engagements.identityId))
    .innerJoin(sponsors, eq(sponsors.id, engagements.sponsorId))
    .innerJoin(vendors, eq(vendors.id, engagements.vendorId))
    .where(inArray(engagements.id, ids));
  return new Map(rows.map(({ e, identity, sponsor, vendor }) => [e.id, {
    engagementId: e.id, identity, sponsor, vendor, purpose: e.purpose, scope: e.scope, endsAt: e.endsAt.toISOString(),
  }]));
};

/** A vendor's reminder says how much its end reaches: active engagements and active service accounts it operates. */
export const loadVendors = async (exec: Executor, ids: string[]): Promise<Map<string, Record<string, unknown>>> => {
  if (ids.length === 0) return new Map();
  const rows = await exec.select({ v: vendors, owner: identities.handle }).from(vendors)
    .innerJoin(identities, eq(identities.id, vendors.relationshipOwnerId)).where(inArray(vendors.id, ids));
  const engaged = await exec.select({ id: engagements.vendorId, n: count() }).from(engagements)
    .where(and(inArray(engagements.vendorId, ids), eq(engagements.status, 'active'))).groupBy(engagements.vendorId);
  const operated = await exec.select({ id: identities.operatedByVendorId, n: count() }).from(identities)
    .where(and(inArray(identities.operatedByVendorId, ids), eq(identities.status, 'active'))).groupBy(identities.operatedByVendorId);
  const tally = (list: { id: string | null; n: number }[], id: string) => Number(list.find((r) => r.id === id)?.n ?? 0);
  return new Map(rows.map(({ v, owner }) => [v.id, {
    vendorId: v.id, vendor: v.name, relationshipOwner: owner, contractEnd: v.contractEnd.toISOString(),
    activeEngagements: tally(engaged, v.id), activeServiceAccounts: tally(operated, v.id),
  }]));
};
