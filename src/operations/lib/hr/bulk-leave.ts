/**
 * The common case of a burst of leavers, done in bulk: a person HR knows, active or pending, who
 * answers for nothing, leaving now with no attributes to update. Their identities, requests, grants,
 * tokens and sessions end with one statement per kind for the whole run (endIdentities), with the
 * same rows, audit events, records and report as one by one. Anyone else (a sponsor or owner, a late
 * leave, a person matched twice, a token minted from another) takes the one-by-one path in their
 * place in the order, so what one leaver's end does to another's is as it would be one by one.
 */
import { and, inArray, isNotNull, isNull, sql } from 'drizzle-orm';
import { rawRows } from '../../../store/database.js';
import { lockIdentities, type Identity } from '../../../store/queries/identities.js';
import { engagements, identities, systems } from '../../../store/schema.js';
import { hrRecords } from '../../../store/schema-hr.js';
import { apiTokens } from '../../../store/schema-service.js';
import type { Work } from '../../../work/context.js';
import { endIdentities } from '../ending/end-identity.js';
import { answersFor, ownerAmong } from '../ending/orphaned-ownership.js';
import type { Applied } from './apply.js';
import { isLate, leaveReason, suspendedEffect } from './leaver.js';
import type { HrEventData } from './match.js';
import { noteApplied, type HrRunState } from './run.js';

/** A leave that may go in bulk, judged on the event alone: due now, not late, nothing to update first. */
export const mayLeaveInBulk = (work: Work, run: HrRunState, event: HrEventData): boolean =>
  event.type === 'leave' && event.effectiveAt <= work.now && !isLate(work, run, event) && Object.keys(event.attributes).length === 0;

const keyOf = (source: string, employeeId: string) => `${source}\u0000${employeeId}`;

/**
 * Of these people, those who answer for anything flagOrphanedOwnership would flag (see ownedBy), or
 * hold a live token minted from another token (which of two leavers ends it depends on their order).
 */
const answeringForSomething = async (work: Work, ids: string[]): Promise<Set<string>> => {
  const among = new Set(ids);
  const owners = ownerAmong(ids);
  const people = await work.tx.select({ sponsor: identities.sponsorId, owner: identities.ownerId, kind: identities.kind })
    .from(identities).where(answersFor.people(owners));
  const found = [
    ...people.flatMap((p) => [p.sponsor, p.kind === 'service_account' ? p.owner : null]),
    ...(await work.tx.select({ id: engagements.sponsorId }).from(engagements).where(answersFor.engagements(owners))).map((r) => r.id),
    ...(await work.tx.select({ business: systems.businessOwnerId, technical: systems.technicalOwnerId }).from(systems)
      .where(answersFor.systems(owners))).flatMap((r) => [r.business, r.technical]),
    ...(await work.tx.select({ id: apiTokens.identityId }).from(apiTokens)
      .where(and(inArray(apiTokens.identityId, ids), isNotNull(apiTokens.parentTokenId), isNull(apiTokens.revokedAt)))).map((r) => r.id),
  ];
  return new Set(found.filter((id): id is string => id !== null && among.has(id)));
};

/**
 * The person each leave ends, where it may end them in bulk; every person matched is locked first,
 * in id order (the lock order), as the one-by-one path would lock them one at a time.
 */
const plainLeavers = async (work: Work, leaves: HrEventData[]): Promise<Map<HrEventData, Identity>> => {
  const records = await work.tx.select({ source: hrRecords.source, employeeId: hrRecords.employeeId, identityId: hrRecords.identityId })
    .from(hrRecords).where(and(inArray(hrRecords.source, [...new Set(leaves.map((e) => e.source))]),
      inArray(hrRecords.employeeId, leaves.map((e) => e.employeeId))));
  const matched = new Map(records.map((r) => [keyOf(r.source, r.employeeId), r.identityId]));
  const idOf = (e: HrEventData) => matched.get(keyOf(e.source, e.employeeId));
  const times = new Map<string, number>();
  for (const e of leaves) { const id = idOf(e); if (id) times.set(id, (times.get(id) ?? 0) + 1); }
  const people = new Map((await lockIdentities(work.tx, [...times.keys()])).map((p) => [p.id, p]));
  const busy = await answeringForSomething(work, [...people.keys()]);
  const plain = new Map<HrEventData, Identity>();
  for (const e of leaves) {
    const person = people.get(idOf(e) ?? '');
    if (person && times.get(person.id) === 1 && (person.status === 'active' || person.status === 'pending') && !busy.has(person.id)) plain.set(e, person);
  }
  return plain;
};

/** What saveRecord does for a leave with no attributes: the source's record moves to the later effective time. */
const touchRecords = async (work: Work, leaves: HrEventData[]): Promise<void> => {
  const rows = leaves.map((e) => ({ source: e.source, employee_id: e.employeeId, effective_at: e.effectiveAt.toISOString() }));
  await rawRows(work.tx, sql`UPDATE hr_records r SET effective_at = GREATEST(r.effective_at, e.effective_at), updated_at = ${work.now.toISOString()}::timestamptz
    FROM json_to_recordset(${JSON.stringify(rows)}::json) AS e(source text, employee_id text, effective_at timestamptz)
    WHERE r.source = e.source AND r.employee_id = e.employee_id`);
};

const endInBulk = async (work: Work, run: HrRunState, group: [HrEventData, Identity][]): Promise<[HrEventData, Applied][]> => {
  if (group.length === 0) return [];
  const ended = await endIdentities(work, group.map(([e, p]) => ({ id: p.id, status: p.status, reason: leaveReason(e) })), 'suspended',
    { endEngagements: true });
  await touchRecords(work, group.map(([e]) => e));
  return group.map(([e, person]) => {
    const effects = [suspendedEffect(ended.get(person.id)!)];
    run.summary.leavers += 1;
    noteApplied(work, run, e, person, effects);
    return [e, { status: 'applied', identityId: person.id, outcome: { effects } }];
  });
};

/**
 * Applies a run of leaves (each `mayLeaveInBulk`) in their order: consecutive plain ones together,
 * any other through `oneByOne` in its place.
 */
export const leaveInBulk = async (
  work: Work, run: HrRunState, leaves: HrEventData[], oneByOne: (event: HrEventData) => Promise<Applied>,
): Promise<[HrEventData, Applied][]> => {
  const plain = await plainLeavers(work, leaves);
  const done: [HrEventData, Applied][] = [];
  let group: [HrEventData, Identity][] = [];
  for (const event of leaves) {
    const person = plain.get(event);
    if (person) { group.push([event, person]); continue; }
    done.push(...await endInBulk(work, run, group), [event, await oneByOne(event)]);
    group = [];
  }
  done.push(...await endInBulk(work, run, group));
  return done;
};
