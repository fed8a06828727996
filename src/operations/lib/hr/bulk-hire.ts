/**
 * The common case of a large import, done in bulk: hires of employees nobody knows yet. Those are
 * told apart by a few set queries per chunk and written with one INSERT per table, with the same
 * audit events, records and birthright as one by one. Anything else (a contractor, a person with
 * two events in the chunk, anyone who might match an existing identity) takes the one-by-one path.
 */
import { and, inArray, sql } from 'drizzle-orm';
import { birthrightFor, kindForClass } from '../../../domain/hr.js';
import { newId } from '../../../domain/ids.js';
import { grants, identities } from '../../../store/schema.js';
import { hrRecords } from '../../../store/schema-hr.js';
import type { Work } from '../../../work/context.js';
import { flagUnmatched, flagWithheld, withoutSodConflicts } from './birthright.js';
import { chooseHandles, type HrEventData } from './match.js';
import { noteApplied, type HrRunState } from './run.js';

const ROWS = 500;
const emailOf = (e: HrEventData) => e.attributes.email?.toLowerCase();
const sources = (events: HrEventData[]) => [...new Set(events.map((e) => e.source))];

const insertInChunks = async <T>(rows: T[], insert: (part: T[]) => Promise<unknown>) => {
  for (let i = 0; i < rows.length; i += ROWS) await insert(rows.slice(i, i + ROWS));
};

/** The events that are hires of unknown employees, each the only event of its person in the chunk. */
export const bulkHires = async (work: Work, run: HrRunState, events: HrEventData[]): Promise<Set<HrEventData>> => {
  const count = new Map<string, number>();
  const bump = (key: string | undefined) => { if (key) count.set(key, (count.get(key) ?? 0) + 1); };
  for (const e of events) { bump(`id:${e.employeeId}`); bump(`mail:${emailOf(e)}`); }
  const candidates = events.filter((e) => e.type === 'hire' && e.effectiveAt <= work.now && e.attributes.name !== undefined
    && kindForClass(e.attributes.employment_class, run.settings.contractorClasses) === 'employee'
    && count.get(`id:${e.employeeId}`) === 1 && (!emailOf(e) || count.get(`mail:${emailOf(e)}`) === 1));
  if (candidates.length === 0) return new Set();
  const ids = candidates.map((e) => e.employeeId);
  const emails = candidates.flatMap((e) => (emailOf(e) ? [emailOf(e)!] : []));
  const known = new Set([
    // Source and employee id together: the primary key's order, so this stays an index lookup as records grow.
    ...(await work.tx.select({ id: hrRecords.employeeId }).from(hrRecords)
      .where(and(inArray(hrRecords.source, sources(candidates)), inArray(hrRecords.employeeId, ids)))).map((r) => `id:${r.id}`),
    ...(await work.tx.select({ id: identities.employeeId }).from(identities).where(inArray(identities.employeeId, ids))).map((r) => `id:${r.id}`),
    ...(emails.length === 0 ? [] : (await work.tx.select({ email: sql<string>`lower(${identities.email})` }).from(identities)
      .where(inArray(sql`lower(${identities.email})`, emails))).map((r) => `mail:${r.email}`)),
  ]);
  return new Set(candidates.filter((e) => !known.has(`id:${e.employeeId}`) && !(emailOf(e) && known.has(`mail:${emailOf(e)}`))));
};

/** Managers named by employee id in the same source: already known, or hired earlier in this batch. */
const managerIds = async (work: Work, events: HrEventData[], hiredNow: Map<string, string>) => {
  const wanted = [...new Set(events.flatMap((e) => (e.attributes.manager ? [e.attributes.manager] : [])))];
  const rows = wanted.length === 0 ? [] : await work.tx.select({ source: hrRecords.source, employeeId: hrRecords.employeeId, id: hrRecords.identityId })
    .from(hrRecords).where(and(inArray(hrRecords.source, sources(events)), inArray(hrRecords.employeeId, wanted)));
  const known = new Map(rows.map((r) => [`${r.source}\u0000${r.employeeId}`, r.id]));
  return (e: HrEventData): string | null => {
    const key = `${e.source}\u0000${e.attributes.manager}`;
    return e.attributes.manager ? known.get(key) ?? hiredNow.get(key) ?? null : null;
  };
};

export const hireInBulk = async (work: Work, run: HrRunState, events: HrEventData[]) => {
  const handles = await chooseHandles(work, events);
  const hiredNow = new Map<string, string>();
  const managerOf = await managerIds(work, events, hiredNow);
  const people = events.map((e, i) => {
    const id = newId();
    hiredNow.set(`${e.source}\u0000${e.employeeId}`, id);
    return { e, row: { id, handle: handles[i]!, displayName: e.attributes.name!, email: e.attributes.email ?? null, kind: 'employee', status: 'active',
      managerId: null as string | null, department: e.attributes.department ?? null, title: e.attributes.title ?? null, location: e.attributes.location ?? null,
      employmentClass: e.attributes.employment_class ?? null, employeeId: e.employeeId, hrEndsAt: e.attributes.end_date ? new Date(e.attributes.end_date) : null,
      createdBy: work.actor.id ?? null, createdAt: work.now, updatedAt: work.now } satisfies typeof identities.$inferInsert };
  });
  for (const p of people) p.row.managerId = managerOf(p.e);
  await insertInChunks(people.map((p) => p.row), (part) => work.tx.insert(identities).values(part));
  await insertInChunks(people.map(({ e, row }) => ({ source: e.source, employeeId: e.employeeId, identityId: row.id, attributes: e.attributes,
    effectiveAt: e.effectiveAt, updatedAt: work.now })), (part) => work.tx.insert(hrRecords).values(part));
  // New identities, invisible to anyone else until commit: only the profiles' own keys can conflict.
  const given = new Map(people.map(({ e, row }) => [row.id, withoutSodConflicts(run.separationOfDuties,
    birthrightFor(run.profiles, e.attributes).filter((key) => run.catalogue.has(key)), [])]));
  const grantRows = people.flatMap(({ row }) => given.get(row.id)!.granted.map((key) => ({
    id: newId(), identityId: row.id, entitlementId: run.catalogue.get(key)!.id, engagementId: null, requestId: null, origin: 'birthright' as const,
    startsAt: work.now, endsAt: null, status: 'active' as const, provisioningState: 'pending' as const, createdAt: work.now, key })));
  await insertInChunks(grantRows.map(({ key: _key, ...g }) => g), (part) => work.tx.insert(grants).values(part));
  const byPerson = new Map<string, typeof grantRows>();
  for (const g of grantRows) byPerson.set(g.identityId, [...(byPerson.get(g.identityId) ?? []), g]);
  const results = new Map<HrEventData, string[]>();
  for (const { e, row } of people) {
    const granted = (byPerson.get(row.id) ?? []).map((g) => g.key);
    work.record({ action: 'identity.created', subject: { type: 'identity', id: row.id }, identityId: row.id, reason: `HR hire (${e.source}/${e.eventId})`,
      after: { handle: row.handle, kind: 'employee', managerId: row.managerId, sponsorId: null, source: e.source, employeeId: e.employeeId } });
    for (const g of byPerson.get(row.id) ?? []) {
      work.record({ action: 'grant.created', subject: { type: 'grant', id: g.id }, identityId: row.id, systemId: run.catalogue.get(g.key)!.systemId,
        reason: `birthright: hire (${e.source}/${e.eventId})`, after: { status: 'active', origin: 'birthright', entitlement: g.key, startsAt: work.now, endsAt: null } });
    }
    const effects = [`hired as ${row.handle} (employee)`, ...(granted.length > 0 ? [`birthright granted: ${granted.join(', ')}`] : [])];
    const withheld = given.get(row.id)!.refused;
    if (withheld.length > 0) {
      await flagWithheld(work, row, withheld, run.separationOfDuties);
      effects.push(`birthright not granted (separation of duties): ${withheld.join(', ')}; finding opened`);
    }
    if (granted.length === 0 && run.profiles.length > 0) {
      await flagUnmatched(work, row);
      effects.push('no access profile matches: finding opened');
    }
    noteApplied(work, run, e, row, effects);
    run.summary.hired += 1; run.summary.birthrightGranted += granted.length;
    results.set(e, effects);
  }
  return new Map(people.map(({ e, row }) => [e, { identityId: row.id, effects: results.get(e)! }]));
};
