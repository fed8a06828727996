import { and, eq, inArray, sql } from 'drizzle-orm';
import { unionAll } from 'drizzle-orm/pg-core';
import type { ApproverFacts } from '../../domain/approver-rules.js';
import type { Executor } from '../database.js';
import { accessRequests, engagements, entitlements, grants, identities } from '../schema.js';
import { recordedVendorId } from './vendors.js';

/** The vendors on the identities' records (a service account's operator) and of their active engagements, as rows. */
const vendorRows = (exec: Executor, ids: readonly string[]) => [
  exec.select({ identityId: identities.id, fact: sql<string>`'vendor'`.as('fact'), value: sql<string | null>`${recordedVendorId}::text`.as('value') })
    .from(identities).where(inArray(identities.id, [...ids])),
  exec.select({ identityId: engagements.identityId, fact: sql<string>`'vendor'`, value: sql<string | null>`${engagements.vendorId}::text` })
    .from(engagements).where(and(inArray(engagements.identityId, [...ids]), eq(engagements.status, 'active'))),
] as const;

/** Adds a fact's value to its identity's list, once. */
const collect = (byIdentity: Map<string, string[]>, identityId: string, value: string | null): void => {
  const known = byIdentity.get(identityId);
  if (value && known && !known.includes(value)) known.push(value);
};

/** The vendors each identity works for: the one on its record (a service account's operator) and those of its active engagements. */
export const vendorsOf = async (exec: Executor, ids: string[]): Promise<Map<string, string[]>> => {
  const byIdentity = new Map<string, string[]>(ids.map((id) => [id, []]));
  if (ids.length === 0) return byIdentity;
  const [recorded, engaged] = vendorRows(exec, ids);
  for (const row of await unionAll(recorded, engaged)) collect(byIdentity, row.identityId, row.value);
  return byIdentity;
};

/**
 * What the approver rules need about each candidate: their vendors, and what they hold (live grants)
 * or have asked for (pending requests). One round trip for all of it: a decision asks this of every
 * candidate of every stage it checks.
 */
export const approverFacts = async (exec: Executor, ids: readonly string[]): Promise<ApproverFacts[]> => {
  const wanted = [...new Set(ids)];
  if (wanted.length === 0) return [];
  const [recorded, engaged] = vendorRows(exec, wanted);
  const held = exec.select({ identityId: grants.identityId, fact: sql<string>`'key'`, value: sql<string | null>`${entitlements.key}` }).from(grants)
    .innerJoin(entitlements, eq(grants.entitlementId, entitlements.id))
    .where(and(inArray(grants.identityId, wanted), inArray(grants.status, ['scheduled', 'active'])));
  const asked = exec.select({ identityId: accessRequests.beneficiaryId, fact: sql<string>`'key'`, value: sql<string | null>`${entitlements.key}` })
    .from(accessRequests).innerJoin(entitlements, eq(accessRequests.entitlementId, entitlements.id))
    .where(and(inArray(accessRequests.beneficiaryId, wanted), eq(accessRequests.status, 'pending')));
  const vendors = new Map<string, string[]>(wanted.map((id) => [id, []]));
  const keys = new Map<string, string[]>(wanted.map((id) => [id, []]));
  for (const row of await unionAll(recorded, engaged, held, asked)) {
    if (row.fact === 'vendor') collect(vendors, row.identityId, row.value);
    else keys.get(row.identityId)?.push(row.value!);
  }
  return wanted.map((id) => ({ id, vendorIds: vendors.get(id)!, holdsOrAsked: keys.get(id)! }));
};
