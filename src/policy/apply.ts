/**
 * Writes a computed plan inside the caller's unit of work: catalogue rows, policy role assignments,
 * the applied document, and the audit events. The caller's transaction makes it all-or-nothing.
 */
import { and, eq, inArray, ne, or, sql } from 'drizzle-orm';
import { TenureError } from '../domain/errors.js';
import { newId } from '../domain/ids.js';
import { decidingIdentities } from '../domain/parties.js';
import { gainedPermissions } from '../domain/permissions.js';
import type { Work } from '../work/context.js';
import { entitlements, grants, policyState, roleAssignments, systems } from '../store/schema.js';
import { computePlan, readSnapshot, renderPlan, summarizePlan, type PolicyPlan, type PolicySnapshot } from './plan.js';
import type { ResolvedPolicy } from './resolve.js';

/**
 * Retiring an entitlement that someone holds (or will hold) would leave a live grant pointing at
 * access the policy no longer describes: refused, the grants must be revoked first. The rows are
 * locked so that the check holds until commit.
 */
const refuseRetiringLiveEntitlements = async (work: Work, snapshot: PolicySnapshot, plan: PolicyPlan): Promise<void> => {
  const ids = snapshot.entitlements.filter((e) => plan.entitlements.retired.includes(e.key)).map((e) => e.id);
  if (ids.length === 0) return;
  await work.tx.select({ id: entitlements.id }).from(entitlements).where(inArray(entitlements.id, ids)).for('update');
  const live = await work.tx.selectDistinct({ key: entitlements.key }).from(grants)
    .innerJoin(entitlements, eq(grants.entitlementId, entitlements.id))
    .where(and(inArray(grants.entitlementId, ids), inArray(grants.status, ['scheduled', 'active'])));
  if (live.length === 0) return;
  const keys = live.map((row) => row.key).sort();
  throw new TenureError('policy.entitlement_in_use',
    `the policy removes ${keys.join(', ')}, which live grants still use: revoke them first or keep the entitlement`,
    { details: { entitlements: keys } });
};

/**
 * An entitlement turned into a shared account (or back) while grants of it are live or not yet
 * removed would have them removed the other way: a membership left in place, or a shared role's
 * password never rotated. Refused until they are gone; the rows are locked as above.
 */
const refuseFlippingSharedAccounts = async (work: Work, snapshot: PolicySnapshot, plan: PolicyPlan): Promise<void> => {
  const flipped = plan.entitlements.changed.filter((c) => c.fields.some((f) => f.field === 'shared_account')).map((c) => c.key);
  const ids = snapshot.entitlements.filter((e) => flipped.includes(e.key)).map((e) => e.id);
  if (ids.length === 0) return;
  await work.tx.select({ id: entitlements.id }).from(entitlements).where(inArray(entitlements.id, ids)).for('update');
  const used = await work.tx.selectDistinct({ key: entitlements.key }).from(grants)
    .innerJoin(entitlements, eq(grants.entitlementId, entitlements.id))
    .where(and(inArray(grants.entitlementId, ids), or(inArray(grants.status, ['scheduled', 'active']), ne(grants.provisioningState, 'deprovisioned'))));
  if (used.length === 0) return;
  const keys = used.map((row) => row.key).sort();
  throw new TenureError('policy.entitlement_in_use',
    `the policy makes ${keys.join(', ')} a shared account or an ordinary entitlement while grants of it are live or not yet removed: `
    + 'revoke them and let their removal finish first', { details: { entitlements: keys } });
};

/**
 * Nobody gives themselves power by policy: roles the plan adds to the applier, or to whoever minted
 * the credential it applies with, must not add any permission they lack. Bootstrap needs no
 * exception: the first administrator already holds every permission.
 */
const refuseSelfGrant = async (work: Work, plan: PolicyPlan): Promise<void> => {
  if (!work.actor.id) return;
  for (const id of decidingIdentities({ id: work.actor.id, issuedBy: work.actor.issuedBy })) {
    const added = plan.roles.added.filter((r) => r.identityId === id).map((r) => r.role);
    if (added.length === 0) continue;
    const held = (await work.tx.select({ role: roleAssignments.role }).from(roleAssignments).where(eq(roleAssignments.identityId, id)))
      .map((r) => r.role);
    const gained = gainedPermissions(held, added);
    if (gained.length === 0) continue;
    const who = id === work.actor.id ? 'you' : 'whoever minted your credential';
    throw new TenureError('policy.self_grant_forbidden',
      `this policy gives ${who} ${added.join(', ')} (${gained.join(', ')}): someone else applies a policy that grants you power`,
      { details: { roles: added, permissions: gained } });
  }
};

const writeSystems = async (work: Work, resolved: ResolvedPolicy, snapshot: PolicySnapshot, plan: PolicyPlan) => {
  const systemIds = new Map(snapshot.systems.map((row) => [row.key, row.id]));
  const added = new Set(plan.systems.added.map((a) => a.key));
  const changed = new Set(plan.systems.changed.map((c) => c.key));
  for (const system of resolved.systems) {
    const values = { name: system.name, criticality: system.criticality, businessOwnerId: system.businessOwnerId,
      technicalOwnerId: system.technicalOwnerId, retired: false };
    if (added.has(system.key)) {
      const id = newId();
      systemIds.set(system.key, id);
      await work.tx.insert(systems).values({ id, key: system.key, ...values });
    } else if (changed.has(system.key)) {
      await work.tx.update(systems).set(values).where(eq(systems.key, system.key));
    }
  }
  if (plan.systems.retired.length > 0) {
    await work.tx.update(systems).set({ retired: true }).where(inArray(systems.key, plan.systems.retired));
  }
  return systemIds;
};

const writeEntitlements = async (work: Work, resolved: ResolvedPolicy, plan: PolicyPlan, systemIds: Map<string, string>) => {
  const added = new Set(plan.entitlements.added.map((a) => a.key));
  const changed = new Set(plan.entitlements.changed.map((c) => c.key));
  for (const system of resolved.systems) {
    for (const e of system.entitlements) {
      const values = { name: e.name, tier: e.tier, maxDurationMs: e.maxDurationMs, sharedAccount: e.sharedAccount, retired: false };
      if (added.has(e.key)) {
        await work.tx.insert(entitlements).values({ id: newId(), key: e.key, systemId: systemIds.get(system.key)!, ...values });
      } else if (changed.has(e.key)) {
        await work.tx.update(entitlements).set(values).where(eq(entitlements.key, e.key));
      }
    }
  }
  if (plan.entitlements.retired.length > 0) {
    await work.tx.update(entitlements).set({ retired: true }).where(inArray(entitlements.key, plan.entitlements.retired));
  }
};

/** Only source 'policy' rows are touched: the bootstrap admin (source 'init') is never removed by a policy. */
const writeRoles = async (work: Work, plan: PolicyPlan) => {
  for (const r of plan.roles.removed) {
    await work.tx.delete(roleAssignments).where(and(eq(roleAssignments.identityId, r.identityId),
      eq(roleAssignments.role, r.role), eq(roleAssignments.source, 'policy')));
    work.record({ action: 'role.removed', subject: { type: 'identity', id: r.identityId }, identityId: r.identityId,
      before: { role: r.role, source: 'policy' }, data: { role: r.role, handle: r.handle, source: 'policy' } });
  }
  if (plan.roles.added.length > 0) {
    await work.tx.insert(roleAssignments).values(plan.roles.added.map((r) => ({ identityId: r.identityId, role: r.role, source: 'policy' as const })));
  }
  for (const r of plan.roles.added) {
    work.record({ action: 'role.granted', subject: { type: 'identity', id: r.identityId }, identityId: r.identityId,
      after: { role: r.role, source: 'policy' }, data: { role: r.role, handle: r.handle, source: 'policy' } });
  }
};

export interface AppliedResult { plan: PolicyPlan; lines: string[]; digest: string; previousDigest: string | null; files: string[] }

/**
 * Applies a resolved policy in the caller's transaction. Concurrent applies are serialised by a
 * table lock taken before the snapshot is read, so each plan is computed against the state it changes.
 */
export const applyResolvedPolicy = async (work: Work, resolved: ResolvedPolicy): Promise<AppliedResult> => {
  await work.tx.execute(sql`LOCK TABLE policy_state IN SHARE ROW EXCLUSIVE MODE`);
  const snapshot = await readSnapshot(work.tx);
  const plan = computePlan(resolved, snapshot);
  await refuseRetiringLiveEntitlements(work, snapshot, plan);
  await refuseFlippingSharedAccounts(work, snapshot, plan);
  await refuseSelfGrant(work, plan);
  const systemIds = await writeSystems(work, resolved, snapshot, plan);
  await writeEntitlements(work, resolved, plan, systemIds);
  await writeRoles(work, plan);
  const { digest, files } = resolved.parsed;
  // A new revision even for the same files: the document also holds what they resolved to here and now.
  const row = { document: resolved.document, digest, appliedAt: work.now, appliedBy: work.actor.id ?? null, revision: newId() };
  await work.tx.insert(policyState).values({ id: 1, ...row }).onConflictDoUpdate({ target: policyState.id, set: row });
  const lines = renderPlan(plan);
  const previousDigest = snapshot.applied?.digest ?? null;
  work.record({ action: 'policy.applied', subject: { type: 'policy', id: digest },
    data: { digest, previousDigest, files, summary: summarizePlan(plan), changes: lines } });
  return { plan, lines, digest, previousDigest, files };
};
