import { and, eq, inArray, sql } from 'drizzle-orm';
import { TenureError } from '../../domain/errors.js';
import { isUuid } from '../../domain/ids.js';
import type { Executor } from '../database.js';
import { accessRequests, engagements, entitlements, grants, identities, systems } from '../schema.js';

export type Entitlement = typeof entitlements.$inferSelect;
export type System = typeof systems.$inferSelect;
export type Engagement = typeof engagements.$inferSelect;

export const findEntitlement = async (
  exec: Executor, ref: string, field = 'entitlement',
): Promise<{ entitlement: Entitlement; system: System }> => {
  const [row] = await exec.select().from(entitlements)
    .innerJoin(systems, eq(entitlements.systemId, systems.id))
    // An id only when UUID-shaped: anything else is a key, and a non-key simply is not found (never a cast error).
    .where(isUuid(ref) ? eq(entitlements.id, ref) : eq(entitlements.key, ref));
  if (!row) throw new TenureError('entitlement.not_found', `no entitlement '${ref}'`, { field });
  return { entitlement: row.entitlements, system: row.systems };
};

/** The identity's engagement that is active now, if any (the latest-ending one when several). */
export const activeEngagementOf = async (exec: Executor, identityId: string, now: Date): Promise<Engagement | undefined> => {
  const rows = await exec.select().from(engagements)
    .where(and(eq(engagements.identityId, identityId), eq(engagements.status, 'active')));
  return rows
    .filter((e) => e.startsAt.getTime() <= now.getTime() && e.endsAt.getTime() > now.getTime())
    .sort((a, b) => b.endsAt.getTime() - a.endsAt.getTime())[0];
};

/** Entitlement keys the identity holds or will hold (scheduled or active grants). */
export const liveEntitlementKeys = async (exec: Executor, identityId: string): Promise<string[]> =>
  (await liveEntitlementKeysOf(exec, [identityId])).get(identityId) ?? [];

/** The same for several identities at once, by identity id. */
export const liveEntitlementKeysOf = async (exec: Executor, identityIds: readonly string[]): Promise<Map<string, string[]>> => {
  const byIdentity = new Map<string, string[]>();
  if (identityIds.length === 0) return byIdentity;
  const rows = await exec.select({ identityId: grants.identityId, key: entitlements.key }).from(grants)
    .innerJoin(entitlements, eq(grants.entitlementId, entitlements.id))
    .where(and(inArray(grants.identityId, identityIds), inArray(grants.status, ['scheduled', 'active'])));
  for (const r of rows) byIdentity.set(r.identityId, [...(byIdentity.get(r.identityId) ?? []), r.key]);
  return byIdentity;
};

/** Entitlement keys each identity has asked for (pending requests), by identity id. */
export const pendingEntitlementKeysOf = async (exec: Executor, identityIds: readonly string[]): Promise<Map<string, string[]>> => {
  const byIdentity = new Map<string, string[]>();
  if (identityIds.length === 0) return byIdentity;
  const rows = await exec.select({ identityId: accessRequests.beneficiaryId, key: entitlements.key }).from(accessRequests)
    .innerJoin(entitlements, eq(accessRequests.entitlementId, entitlements.id))
    .where(and(inArray(accessRequests.beneficiaryId, [...identityIds]), eq(accessRequests.status, 'pending')));
  for (const r of rows) byIdentity.set(r.identityId, [...(byIdentity.get(r.identityId) ?? []), r.key]);
  return byIdentity;
};

export interface HeldGrant { grantId: string; identityId: string; handle: string; key: string }

/**
 * The live grants (scheduled or active) of `keys`, with holder and key, of the people who hold at
 * least two of them: everyone a separation-of-duties rule over those keys could catch, since a rule
 * names at least two. Chosen by the database, so a scan over a million live grants reads the few
 * people in question, not the million rows (which took the process's event loop for seconds).
 */
export const grantsHeldTogether = async (exec: Executor, keys: readonly string[]): Promise<HeldGrant[]> => {
  if (keys.length < 2) return [];
  const live = and(inArray(grants.status, ['scheduled', 'active']), inArray(entitlements.key, [...keys]));
  const together = exec.select({ identityId: grants.identityId }).from(grants).innerJoin(entitlements, eq(entitlements.id, grants.entitlementId))
    .where(live).groupBy(grants.identityId).having(sql`count(DISTINCT ${entitlements.key}) >= 2`);
  return exec.select({ grantId: grants.id, identityId: grants.identityId, handle: identities.handle, key: entitlements.key }).from(grants)
    .innerJoin(entitlements, eq(entitlements.id, grants.entitlementId))
    .innerJoin(identities, eq(identities.id, grants.identityId))
    .where(and(live, inArray(grants.identityId, together)));
};
