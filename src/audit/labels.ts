import { eq, inArray } from 'drizzle-orm';
import type { Executor } from '../store/database.js';
import { accessRequests, engagements, entitlements, grants, identities, systems, vendors } from '../store/schema.js';
import type { AuditRecord } from './search.js';

/**
 * Display labels for the actors and subjects of audit events, as people name them: a person by handle
 * and name, a grant or a request by beneficiary and entitlement, an engagement by vendor and purpose.
 * They are read now, beside the hashed record, never part of it: the ids stay the evidence, a label is
 * only how a reader finds their way, and a subject that no longer exists simply has none.
 */
export interface AuditLabels {
  actor(event: AuditRecord): string | undefined;
  subject(event: AuditRecord): string | undefined;
}

const idsOf = (events: AuditRecord[], type: string) => [...new Set(events.filter((e) => e.subject.type === type).map((e) => e.subject.id))];

const personLabels = async (exec: Executor, ids: string[]) => {
  if (ids.length === 0) return new Map<string, string>();
  const rows = await exec.select({ id: identities.id, handle: identities.handle, name: identities.displayName }).from(identities).where(inArray(identities.id, ids));
  return new Map(rows.map((r) => [r.id, r.name && r.name !== r.handle ? `${r.handle} (${r.name})` : r.handle]));
};

/** Grants and requests both read "beneficiary · entitlement". */
const accessLabels = async (exec: Executor, grantIds: string[], requestIds: string[]) => {
  const labels = new Map<string, string>();
  if (grantIds.length > 0) {
    const rows = await exec.select({ id: grants.id, who: identities.handle, key: entitlements.key }).from(grants)
      .innerJoin(identities, eq(grants.identityId, identities.id)).innerJoin(entitlements, eq(grants.entitlementId, entitlements.id))
      .where(inArray(grants.id, grantIds));
    for (const r of rows) labels.set(r.id, `${r.who} · ${r.key}`);
  }
  if (requestIds.length > 0) {
    const rows = await exec.select({ id: accessRequests.id, who: identities.handle, key: entitlements.key }).from(accessRequests)
      .innerJoin(identities, eq(accessRequests.beneficiaryId, identities.id)).innerJoin(entitlements, eq(accessRequests.entitlementId, entitlements.id))
      .where(inArray(accessRequests.id, requestIds));
    for (const r of rows) labels.set(r.id, `${r.who} · ${r.key}`);
  }
  return labels;
};

const placeLabels = async (exec: Executor, engagementIds: string[], systemIds: string[], vendorIds: string[]) => {
  const labels = new Map<string, string>();
  if (engagementIds.length > 0) {
    const rows = await exec.select({ id: engagements.id, who: identities.handle, vendor: vendors.name, purpose: engagements.purpose }).from(engagements)
      .innerJoin(identities, eq(engagements.identityId, identities.id)).innerJoin(vendors, eq(engagements.vendorId, vendors.id))
      .where(inArray(engagements.id, engagementIds));
    for (const r of rows) labels.set(r.id, `${r.who} at ${r.vendor}: ${r.purpose}`);
  }
  if (systemIds.length > 0) {
    for (const r of await exec.select({ id: systems.id, key: systems.key }).from(systems).where(inArray(systems.id, systemIds))) labels.set(r.id, r.key);
  }
  if (vendorIds.length > 0) {
    for (const r of await exec.select({ id: vendors.id, name: vendors.name }).from(vendors).where(inArray(vendors.id, vendorIds))) labels.set(r.id, r.name);
  }
  return labels;
};

/** Reads every label the events need in a few queries (one per kind of subject). */
export const labelAuditEvents = async (exec: Executor, events: AuditRecord[]): Promise<AuditLabels> => {
  const people = await personLabels(exec, [...new Set([
    ...events.map((e) => e.actor.id).filter((id): id is string => id !== null), ...idsOf(events, 'identity'),
  ])]);
  const access = await accessLabels(exec, idsOf(events, 'grant'), idsOf(events, 'request'));
  const places = await placeLabels(exec, idsOf(events, 'engagement'), idsOf(events, 'system'), idsOf(events, 'vendor'));
  return {
    actor: (e) => (e.actor.id === null ? undefined : people.get(e.actor.id)),
    subject: (e) => (e.subject.type === 'identity' ? people.get(e.subject.id) : access.get(e.subject.id) ?? places.get(e.subject.id)),
  };
};
