/**
 * When a person leaves, what they answered for must not become a silent orphan: each person they
 * sponsor, engagement they sponsor, service account they own and system they own becomes an
 * `ownership_orphaned` finding routed to the leaver's manager; with no manager on record, to whoever
 * else answers for the thing (the vendor's relationship owner for a vendor's person, engagement or
 * service account; the system's other owner); only with none of them to no one named (readers of
 * every finding, security and IAM, see it). Due within the policy's window.
 * After the window, sponsored contractors are suspended (jobs/hr.ts).
 */
import { and, eq, inArray, or, sql, type Column, type SQL } from 'drizzle-orm';
import { recordedVendorId } from '../../../store/queries/vendors.js';
import { engagements, identities, systems } from '../../../store/schema.js';
import type { Work } from '../../../work/context.js';
import { openFinding } from '../provisioning/findings.js';

export const OWNED_THINGS = ['sponsorship', 'engagement', 'service_account', 'system'] as const;
export type OwnedThing = (typeof OWNED_THINGS)[number];

interface Owned {
  type: OwnedThing; id: string; label: string; identityId: string | null; systemId: string | null;
  /** Who else answers for it when the leaver had no manager (see above); null: nobody else. */
  fallbackOwnerId: string | null;
}

/** The active relationship owner of a vendor, not the leaver. */
const relationshipOwner = (leaverId: string) => sql<string | null>`(SELECT o.id FROM vendors v JOIN identities o ON o.id = v.relationship_owner_id
   WHERE o.status = 'active' AND o.id <> ${leaverId} AND v.id = `;

/** Whom a question is about: one person, or any of several (the bulk leaver path asks for a whole run at once). */
export type Owners = (column: Column) => SQL;
export const ownerIs = (personId: string): Owners => (column) => eq(column, personId);
export const ownerAmong = (ids: string[]): Owners => (column) => inArray(column, ids);

/**
 * What counts as answering for something while it is live, one predicate per table: people
 * sponsored and service accounts owned, engagements sponsored, systems owned. ownedBy and the
 * bulk leaver path (hr/bulk-leave.ts) both ask these, so they can never disagree on who is plain.
 */
export const answersFor = {
  people: (owner: Owners) => and(inArray(identities.status, ['active', 'pending']),
    or(owner(identities.sponsorId), and(owner(identities.ownerId), eq(identities.kind, 'service_account')))),
  engagements: (owner: Owners) => and(owner(engagements.sponsorId), eq(engagements.status, 'active')),
  systems: (owner: Owners) => and(eq(systems.retired, false), or(owner(systems.businessOwnerId), owner(systems.technicalOwnerId))),
};

/** Everything the person answers for that is still live. */
export const ownedBy = async (work: Work, personId: string): Promise<Owned[]> => {
  const vendorOwner = (vendorColumn: SQL) => sql<string | null>`${relationshipOwner(personId)}${vendorColumn})`;
  const people = await work.tx.select({ id: identities.id, handle: identities.handle, kind: identities.kind,
    fallback: vendorOwner(recordedVendorId) }).from(identities).where(answersFor.people(ownerIs(personId)));
  const sponsored = await work.tx.select({ id: engagements.id, identityId: engagements.identityId, purpose: engagements.purpose,
    fallback: vendorOwner(sql`${engagements.vendorId}`) })
    .from(engagements).where(answersFor.engagements(ownerIs(personId)));
  // The system's other owner, when active.
  const otherOwner = sql<string | null>`(SELECT o.id FROM identities o WHERE o.status = 'active' AND o.id <> ${personId}
    AND o.id IN (${systems.businessOwnerId}, ${systems.technicalOwnerId}) LIMIT 1)`;
  const owned = await work.tx.select({ id: systems.id, key: systems.key, fallback: otherOwner }).from(systems)
    .where(answersFor.systems(ownerIs(personId)));
  return [
    ...people.map((p) => ({ type: (p.kind === 'service_account' ? 'service_account' : 'sponsorship') as OwnedThing, id: p.id,
      label: p.handle, identityId: p.id, systemId: null, fallbackOwnerId: p.fallback })),
    ...sponsored.map((e) => ({ type: 'engagement' as const, id: e.id, label: e.purpose, identityId: e.identityId, systemId: null, fallbackOwnerId: e.fallback })),
    ...owned.map((s) => ({ type: 'system' as const, id: s.id, label: s.key, identityId: null, systemId: s.id, fallbackOwnerId: s.fallback })),
  ];
};

export const ownershipKey = (type: OwnedThing, id: string): string => `ownership_orphaned:${type}:${id}`;

const ASK: Record<OwnedThing, string> = {
  sponsorship: 'needs a new sponsor',
  engagement: 'needs a new sponsor',
  service_account: 'needs a new owner',
  system: 'needs a new owner in the policy file',
};

/** Opens one finding per thing the leaver answered for, owned by their manager (without one, by whoever else answers for it: see above). */
export const flagOrphanedOwnership = async (
  work: Work, leaver: { id: string; handle: string; managerId: string | null }, reassignWithinMs: number,
): Promise<Owned[]> => {
  const things = await ownedBy(work, leaver.id);
  const dueAt = new Date(work.now.getTime() + reassignWithinMs);
  for (const thing of things) {
    await openFinding(work, {
      kind: 'ownership_orphaned', key: ownershipKey(thing.type, thing.id), ownerId: leaver.managerId ?? thing.fallbackOwnerId, dueAt,
      identityId: thing.identityId, systemId: thing.systemId,
      summary: `${thing.type.replace('_', ' ')} ${thing.label} ${ASK[thing.type]}: ${leaver.handle} left`,
      evidence: { subjectType: thing.type, subjectId: thing.id, label: thing.label, formerOwnerId: leaver.id, formerOwner: leaver.handle,
        reassignBy: dueAt.toISOString() },
    });
  }
  return things;
};
