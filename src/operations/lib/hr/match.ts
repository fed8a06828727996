/**
 * Matching an HR event to an identity, and what each source has said about that identity. A person
 * is matched by the source's own record first, then by employee id, then by email: two sources
 * describing one person (after a merger, say) end up on one identity.
 */
import { and, eq, inArray, ne, sql } from 'drizzle-orm';
import { handleCandidates, type HrAttributes } from '../../../domain/hr.js';
import { newId } from '../../../domain/ids.js';
import type { Identity } from '../../../store/queries/identities.js';
import { identities } from '../../../store/schema.js';
import { hrEvents, hrRecords } from '../../../store/schema-hr.js';
import type { Work } from '../../../work/context.js';

export interface HrEventData {
  source: string;
  eventId: string;
  type: 'hire' | 'change' | 'leave';
  employeeId: string;
  effectiveAt: Date;
  attributes: HrAttributes;
  digest: string;
}

export type HrRecord = typeof hrRecords.$inferSelect;
export interface Match { identity: Identity | undefined; own: HrRecord | undefined; others: HrRecord[] }

export const matchIdentity = async (work: Work, event: HrEventData): Promise<Match> => {
  const [own] = await work.tx.select().from(hrRecords)
    .where(and(eq(hrRecords.source, event.source), eq(hrRecords.employeeId, event.employeeId)));
  let identity: Identity | undefined;
  if (own) {
    [identity] = await work.tx.select().from(identities).where(eq(identities.id, own.identityId)).for('update');
  } else {
    [identity] = await work.tx.select().from(identities).where(eq(identities.employeeId, event.employeeId)).for('update');
    if (!identity && event.attributes.email) {
      [identity] = await work.tx.select().from(identities)
        .where(sql`lower(${identities.email}) = ${event.attributes.email.toLowerCase()}`).for('update');
    }
  }
  const others = identity ? await work.tx.select().from(hrRecords)
    .where(and(eq(hrRecords.identityId, identity.id), ne(hrRecords.source, event.source))) : [];
  return { identity, own, others };
};

/** The manager named by employee id in the same source, if HR has told us about them. */
export const managerOf = async (work: Work, source: string, managerEmployeeId: string | undefined): Promise<Identity | undefined> => {
  if (!managerEmployeeId) return undefined;
  const [row] = await work.tx.select({ identity: identities }).from(hrRecords)
    .innerJoin(identities, eq(identities.id, hrRecords.identityId))
    .where(and(eq(hrRecords.source, source), eq(hrRecords.employeeId, managerEmployeeId)));
  return row?.identity;
};

/** Remembers what this source now says about the person (merged over what it said before). */
export const saveRecord = async (work: Work, event: HrEventData, identityId: string, own: HrRecord | undefined): Promise<void> => {
  const attributes = { ...(own?.attributes ?? {}), ...event.attributes };
  const effectiveAt = own && own.effectiveAt > event.effectiveAt ? own.effectiveAt : event.effectiveAt;
  await work.tx.insert(hrRecords).values({ source: event.source, employeeId: event.employeeId, identityId, attributes, effectiveAt, updatedAt: work.now })
    .onConflictDoUpdate({ target: [hrRecords.source, hrRecords.employeeId], set: { identityId, attributes, effectiveAt, updatedAt: work.now } });
};

/** The identity's attributes in HR's vocabulary, as Tenure holds them now. */
export const currentAttributes = (identity: Identity): HrAttributes => ({
  name: identity.displayName, email: identity.email ?? undefined, department: identity.department ?? undefined,
  title: identity.title ?? undefined, location: identity.location ?? undefined, employment_class: identity.employmentClass ?? undefined,
  end_date: identity.hrEndsAt?.toISOString(),
});

/** An event as recorded (held or scheduled) back into the shape the runs apply. */
export const eventDataOf = (row: typeof hrEvents.$inferSelect): HrEventData => ({ source: row.source, eventId: row.eventId, type: row.type,
  employeeId: row.employeeId, effectiveAt: row.effectiveAt, attributes: row.attributes, digest: row.digest });

/** Handles for new people: the email's or name's, else with the employee id added; never one taken or used twice here. Exact lookups, so a large import stays on the index. */
export const chooseHandles = async (work: Work, events: readonly HrEventData[]): Promise<string[]> => {
  const options = events.map((e) => handleCandidates(e.attributes, e.employeeId, newId().slice(0, 8)));
  const all = options.flat();
  const used = new Set<string>();
  for (let i = 0; i < all.length; i += 5000) {
    for (const r of await work.tx.select({ h: identities.handle }).from(identities).where(inArray(identities.handle, all.slice(i, i + 5000)))) used.add(r.h);
  }
  return options.map((choices) => { const pick = choices.find((c) => !used.has(c))!; used.add(pick); return pick; });
};
