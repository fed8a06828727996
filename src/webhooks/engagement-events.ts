/** Webhook data for engagement reminders: whose engagement, with which vendor, who sponsors it, when it ends. */
import { eq, inArray } from 'drizzle-orm';
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
