import { and, eq, inArray } from 'drizzle-orm';
import type { ApproverFacts } from '../../domain/approver-rules.js';
import type { Executor } from '../database.js';
import { engagements, identities } from '../schema.js';
import { liveEntitlementKeysOf, pendingEntitlementKeysOf } from './catalogue.js';
import { recordedVendorId } from './vendors.js';

/** The vendors each identity works for: the one on its record (a service account's operator) and those of its active engagements. */
export const vendorsOf = async (exec: Executor, ids: string[]): Promise<Map<string, string[]>> => {
  const byIdentity = new Map<string, string[]>(ids.map((id) => [id, []]));
  if (ids.length === 0) return byIdentity;
  const recorded = await exec.select({ identityId: identities.id, vendorId: recordedVendorId }).from(identities).where(inArray(identities.id, ids));
  const engaged = await exec.select({ identityId: engagements.identityId, vendorId: engagements.vendorId }).from(engagements)
    .where(and(inArray(engagements.identityId, ids), eq(engagements.status, 'active')));
  for (const { identityId, vendorId } of [...recorded, ...engaged]) {
    const known = byIdentity.get(identityId) ?? [];
    if (vendorId && !known.includes(vendorId)) byIdentity.set(identityId, [...known, vendorId]);
  }
  return byIdentity;
};

/** What the approver rules need about each candidate: their vendors, and what they hold or have asked for. */
export const approverFacts = async (exec: Executor, ids: readonly string[]): Promise<ApproverFacts[]> => {
  const wanted = [...new Set(ids)];
  if (wanted.length === 0) return [];
  // One query at a time: inside a transaction they share one connection and cannot overlap.
  const vendors = await vendorsOf(exec, wanted);
  const live = await liveEntitlementKeysOf(exec, wanted);
  const pending = await pendingEntitlementKeysOf(exec, wanted);
  return wanted.map((id) => ({ id, vendorIds: vendors.get(id) ?? [], holdsOrAsked: [...(live.get(id) ?? []), ...(pending.get(id) ?? [])] }));
};
