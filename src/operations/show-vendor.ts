import { and, asc, desc, eq, inArray, or, sql, type SQL } from 'drizzle-orm';
import { z } from 'zod';
import { TenureError } from '../domain/errors.js';
import type { Executor } from '../store/database.js';
import { handlesById } from '../store/queries/identities.js';
import { findVendor } from '../store/queries/vendors.js';
import { engagements, entitlements, grants, identities, systems, vendors } from '../store/schema.js';
import { credentials } from '../store/schema-credentials.js';
import { findings } from '../store/schema-provisioning.js';
import { loadActor, may, requireVisible, type ActingIdentity } from './authorize.js';
import type { Context } from '../work/context.js';
import { parseInput, ref } from './input.js';
import { cursorField, decodeCursor, encodeCursor, pageOf } from './lib/cursor.js';

type VendorRow = typeof vendors.$inferSelect;

const summary = (v: VendorRow, handles: Map<string, string>) => ({
  id: v.id, name: v.name, kind: v.kind, relationshipOwner: handles.get(v.relationshipOwnerId) ?? v.relationshipOwnerId,
  contractEnd: v.contractEnd, endAppliedAt: v.endAppliedAt, createdAt: v.createdAt,
});

export const ListInput = z.object({ limit: z.number().int().min(1).max(5000).default(500), cursor: cursorField }).strict();

/** Vendors, soonest contract end first: all of them for IAM, security and auditors; otherwise those one is relationship owner of. */
export const pageVendors = async (ctx: Context, input: z.input<typeof ListInput> = {}) => {
  const data = parseInput(ListInput, input);
  const after = decodeCursor(data.cursor, 'date');
  const exec = ctx.store.db;
  const acting = await loadActor(exec, ctx.actor.id);
  const filters: (SQL | undefined)[] = [
    may(acting, 'vendor.read_all') ? undefined : eq(vendors.relationshipOwnerId, acting.identity.id),
    after ? sql`(${vendors.contractEnd}, ${vendors.id}) > (${after.key}::timestamptz, ${after.id}::uuid)` : undefined,
  ];
  const rows = await exec.select().from(vendors).where(and(...filters)).orderBy(asc(vendors.contractEnd), asc(vendors.id)).limit(data.limit);
  const handles = await handlesById(exec, rows.map((v) => v.relationshipOwnerId));
  return pageOf(rows.map((v) => summary(v, handles)), data.limit, (v) => encodeCursor(v.contractEnd, v.id));
};

/** A vendor its relationship owner, or a reader of every vendor, may see; to anyone else it does not exist. */
export const visibleVendor = async (exec: Executor, acting: ActingIdentity, vendorRef: string): Promise<VendorRow> => {
  const missing = () => new TenureError('vendor.not_found', `no vendor '${vendorRef}'`, { field: 'vendor' });
  let vendor: VendorRow;
  try {
    vendor = await findVendor(exec, vendorRef);
  } catch (error) {
    if (error instanceof TenureError) throw missing();
    throw error;
  }
  requireVisible(acting, vendor.relationshipOwnerId === acting.identity.id, 'vendor.read_all', missing);
  return vendor;
};

/** The identities of a vendor: everyone engaged through it (ever) and every service account it operates. */
export const vendorMembers = async (exec: Executor, vendorId: string) => {
  const engaged = exec.select({ id: engagements.identityId }).from(engagements).where(eq(engagements.vendorId, vendorId));
  return exec.select().from(identities)
    .where(or(inArray(identities.id, engaged), eq(identities.operatedByVendorId, vendorId))).orderBy(asc(identities.handle));
};

/**
 * Grants held through the vendor: under its engagements, or by a service account it operates (a
 * person's grants under another vendor's engagement are not this vendor's). Live ones, or those matching `where`.
 */
export const vendorGrants = async (exec: Executor, vendorId: string, where?: SQL) => {
  const under = exec.select({ id: engagements.id }).from(engagements).where(eq(engagements.vendorId, vendorId));
  const operated = exec.select({ id: identities.id }).from(identities).where(eq(identities.operatedByVendorId, vendorId));
  return exec.select({ g: grants, entitlement: entitlements.key, system: systems.key }).from(grants)
    .innerJoin(entitlements, eq(grants.entitlementId, entitlements.id)).innerJoin(systems, eq(entitlements.systemId, systems.id))
    .where(and(or(inArray(grants.engagementId, under), inArray(grants.identityId, operated)),
      where ?? inArray(grants.status, ['active', 'scheduled'])))
    .orderBy(desc(grants.createdAt), desc(grants.id));
};

/**
 * One vendor: its contract, its people and their engagements, the service accounts it operates with
 * their credentials, every grant they hold now, and the open findings about any of them.
 */
export const showVendor = async (ctx: Context, vendorRef: string) => {
  const { vendor: refValue } = parseInput(z.object({ vendor: ref }).strict(), { vendor: vendorRef });
  const exec = ctx.store.db;
  const acting = await loadActor(exec, ctx.actor.id);
  const vendor = await visibleVendor(exec, acting, refValue);
  const members = await vendorMembers(exec, vendor.id);
  const ids = members.map((m) => m.id);
  const under = await exec.select().from(engagements).where(eq(engagements.vendorId, vendor.id)).orderBy(asc(engagements.endsAt));
  const held = await vendorGrants(exec, vendor.id);
  const creds = ids.length === 0 ? [] : await exec.select().from(credentials).where(inArray(credentials.identityId, ids));
  const open = ids.length === 0 ? [] : await exec.select().from(findings)
    .where(and(inArray(findings.identityId, ids), inArray(findings.status, ['open', 'accepted']))).orderBy(desc(findings.openedAt));
  const handles = await handlesById(exec, [vendor.relationshipOwnerId, ...ids, ...under.map((e) => e.sponsorId),
    ...members.flatMap((m) => (m.ownerId ? [m.ownerId] : []))]);
  const name = (id: string | null) => (id ? handles.get(id) ?? id : null);
  return {
    ...summary(vendor, handles),
    people: members.filter((m) => m.kind !== 'service_account').map((m) => ({ handle: m.handle, kind: m.kind, status: m.status })),
    engagements: under.map((e) => ({ id: e.id, identity: name(e.identityId), sponsor: name(e.sponsorId), status: e.status,
      purpose: e.purpose, startsAt: e.startsAt, endsAt: e.endsAt, endedAt: e.endedAt })),
    serviceAccounts: members.filter((m) => m.operatedByVendorId === vendor.id).map((m) => ({
      handle: m.handle, status: m.status, owner: name(m.ownerId),
      credentials: creds.filter((c) => c.identityId === m.id).map((c) => ({ id: c.id, name: c.name, kind: c.kind, status: c.status,
        retirementDueAt: c.retirementDueAt })),
    })),
    grants: held.map(({ g, entitlement, system }) => ({ id: g.id, identity: name(g.identityId), entitlement, system, status: g.status,
      provisioningState: g.provisioningState, endsAt: g.endsAt })),
    findings: open.map((f) => ({ id: f.id, kind: f.kind, severity: f.severity, status: f.status, identity: name(f.identityId),
      summary: f.summary, openedAt: f.openedAt })),
  };
};
