/**
 * Applies one HR event: a hire creates (or rehires) the person with their birthright, a change moves
 * them (birthright recomputed, the rest reviewed), a leave offboards them. HR is authoritative, but
 * where two sources disagree neither wins silently: the attribute is held back and a finding opens.
 */
import { and, eq } from 'drizzle-orm';
import { attributeConflicts, kindForClass, movedOn, type HrAttributes } from '../../../domain/hr.js';
import { newId } from '../../../domain/ids.js';
import { isNonEmployee } from '../../../domain/model.js';
import { countOf } from '../../../domain/plural.js';
import type { Identity } from '../../../store/queries/identities.js';
import { grants, identities } from '../../../store/schema.js';
import { findings } from '../../../store/schema-provisioning.js';
import type { Work } from '../../../work/context.js';
import { flagUnmatched, flagWithheld, syncBirthright } from './birthright.js';
import { openFinding, resolveFindingsWhere } from '../provisioning/findings.js';
import { leaveReason, offboard } from './leaver.js';
import { chooseHandles, currentAttributes, managerOf, matchIdentity, saveRecord, type HrEventData, type Match } from './match.js';
import { noteApplied, noteChange, type HrRunState } from './run.js';
import { openCampaign } from '../reviews/campaigns.js';

export interface Applied { status: 'applied' | 'superseded' | 'discarded'; identityId: string | null; outcome: Record<string, unknown> }

const describe = (e: HrEventData) => `${e.type} (${e.source}/${e.eventId})`;

/** Column values for the attributes that are applied; only what the event carries is touched. */
const columnsFor = async (work: Work, event: HrEventData, applied: HrAttributes) => {
  const set: Partial<typeof identities.$inferInsert> = {};
  if (applied.name !== undefined) set.displayName = applied.name;
  if (applied.email !== undefined) set.email = applied.email;
  if (applied.department !== undefined) set.department = applied.department;
  if (applied.title !== undefined) set.title = applied.title;
  if (applied.location !== undefined) set.location = applied.location;
  if (applied.employment_class !== undefined) set.employmentClass = applied.employment_class;
  if (applied.end_date !== undefined) set.hrEndsAt = new Date(applied.end_date);
  if (applied.manager !== undefined) set.managerId = (await managerOf(work, event.source, applied.manager))?.id ?? null;
  return set;
};

/** Birthright in line with the attributes, and a finding when the attributes match no profile at all. */
const birthright = async (work: Work, run: HrRunState, person: Identity, why: string, effects: string[]) => {
  if (person.status !== 'active' || run.profiles.length === 0) return;
  const change = await syncBirthright(work, { id: person.id, kind: person.kind, attributes: currentAttributes(person) },
    run.profiles, run.catalogue, why, run.separationOfDuties);
  run.summary.birthrightGranted += change.granted.length;
  run.summary.birthrightRevoked += change.revoked.length;
  if (change.granted.length > 0) effects.push(`birthright granted: ${change.granted.join(', ')}`);
  if (change.revoked.length > 0) effects.push(`birthright revoked: ${change.revoked.join(', ')}`);
  if (change.refused.length > 0) {
    effects.push(`birthright not granted (separation of duties): ${change.refused.join(', ')}; finding opened`);
    await flagWithheld(work, person, change.refused, run.separationOfDuties);
  }
  const key = `hr_attributes_unmatched:${person.id}`;
  if (change.matched) { await resolveFindingsWhere(work, eq(findings.key, key), 'the attributes now match an access profile'); return; }
  await flagUnmatched(work, person);
  effects.push('no access profile matches: finding opened');
};

const createPerson = async (work: Work, run: HrRunState, event: HrEventData): Promise<Identity | string> => {
  const a = event.attributes;
  if (!a.name) return 'a hire needs a name';
  const kind = kindForClass(a.employment_class, run.settings.contractorClasses);
  const manager = await managerOf(work, event.source, a.manager);
  if (isNonEmployee(kind) && (manager?.kind !== 'employee' || manager.status !== 'active')) {
    return 'a contractor needs an active employee manager, who becomes the sponsor';
  }
  const handle = (await chooseHandles(work, [event]))[0]!;
  const [row] = await work.tx.insert(identities).values({
    id: newId(), handle, displayName: a.name, email: a.email ?? null, kind, status: 'active', managerId: manager?.id ?? null,
    sponsorId: isNonEmployee(kind) ? manager!.id : null, department: a.department ?? null, title: a.title ?? null,
    location: a.location ?? null, employmentClass: a.employment_class ?? null, employeeId: event.employeeId,
    hrEndsAt: a.end_date ? new Date(a.end_date) : null, createdBy: work.actor.id ?? null, createdAt: work.now, updatedAt: work.now,
  }).returning();
  work.record({ action: 'identity.created', subject: { type: 'identity', id: row!.id }, identityId: row!.id, reason: `HR ${describe(event)}`,
    after: { handle, kind, managerId: row!.managerId, sponsorId: row!.sponsorId, source: event.source, employeeId: event.employeeId } });
  return row!;
};

/** Applies the attributes no other source contradicts; returns the person as updated and which attributes moved them. */
const updatePerson = async (work: Work, run: HrRunState, event: HrEventData, match: Match & { identity: Identity }, effects: string[]) => {
  const person = match.identity;
  const conflicts = attributeConflicts(event.attributes, match.others);
  const held = new Set(conflicts.map((c) => c.attribute));
  for (const c of conflicts) {
    await openFinding(work, { kind: 'hr_source_conflict', key: `hr_source_conflict:${person.id}:${c.attribute}`, identityId: person.id,
      summary: `${event.source} says ${c.attribute} of ${person.handle} is '${c.value}', ${c.otherSource} says '${c.otherValue}'`,
      evidence: { ...c, source: event.source, eventId: event.eventId } });
    effects.push(`${c.attribute} not applied: ${c.otherSource} disagrees (finding)`);
  }
  run.summary.conflicts += conflicts.length;
  const applied = Object.fromEntries(Object.entries(event.attributes).filter(([k]) => !held.has(k as never))) as HrAttributes;
  const before = currentAttributes(person);
  const manager = match.own?.attributes.manager;
  const moved = movedOn({ ...before, manager }, applied);
  const set = await columnsFor(work, event, applied);
  if (Object.keys(set).length === 0) return { person, moved };
  if (!person.employeeId) set.employeeId = event.employeeId;
  const [updated] = await work.tx.update(identities).set({ ...set, updatedAt: work.now }).where(eq(identities.id, person.id)).returning();
  work.record({ action: 'identity.attributes_changed', subject: { type: 'identity', id: person.id }, identityId: person.id,
    before, after: applied, reason: `HR ${describe(event)}` });
  return { person: updated!, moved };
};

/** A mover keeps only the birthright that still matches, and the new manager (or the sponsor) reviews the rest. */
const move = async (work: Work, run: HrRunState, person: Identity, moved: string[], event: HrEventData, effects: string[]) => {
  run.summary.movers += 1;
  effects.push(`mover (${moved.join(', ')})`);
  await birthright(work, run, person, `mover ${describe(event)}`, effects);
  const review = await openCampaign(work, {
    name: `mover review of ${person.handle}`, trigger: 'mover', scope: { identity: person.id, moved },
    grants: and(eq(grants.identityId, person.id), eq(grants.origin, 'request'))!,
    reviewer: isNonEmployee(person.kind) ? 'sponsor' : person.managerId ? { fixed: person.managerId } : 'system_owner',
    dueAt: new Date(work.now.getTime() + run.settings.moverReviewWithinMs), undecided: 'revoke',
  });
  if (review.campaignId) { run.summary.reviewsOpened += 1; effects.push(`mover review of ${countOf(review.items, 'requested grant')}`); }
};

const hire = async (work: Work, run: HrRunState, event: HrEventData, match: Match, effects: string[]): Promise<Identity | string> => {
  if (!match.identity) {
    const created = await createPerson(work, run, event);
    if (typeof created === 'string') return created;
    run.summary.hired += 1;
    effects.push(`hired as ${created.handle} (${created.kind})`);
    await birthright(work, run, created, `hire ${describe(event)}`, effects);
    return created;
  }
  if (match.identity.status === 'terminated') return `${match.identity.handle} is terminated; a rehire needs a new identity`;
  let person = match.identity;
  if (person.status === 'suspended' || person.status === 'pending') {
    await work.tx.update(identities).set({ status: 'active', updatedAt: work.now }).where(eq(identities.id, person.id));
    work.record({ action: 'identity.status_changed', subject: { type: 'identity', id: person.id }, identityId: person.id,
      before: { status: person.status }, after: { status: 'active' }, reason: `HR ${describe(event)}` });
    person = { ...person, status: 'active' };
    run.summary.rehired += 1;
    effects.push('rehired: active again, with fresh credentials only');
  } else effects.push(match.own ? 'already hired: attributes updated' : `matched to ${person.handle} from another source`);
  const updated = await updatePerson(work, run, event, { ...match, identity: person }, effects);
  await birthright(work, run, updated.person, `hire ${describe(event)}`, effects);
  return updated.person;
};

const change = async (work: Work, run: HrRunState, event: HrEventData, match: Match, effects: string[]): Promise<Identity | string> => {
  if (!match.identity) return 'no such person: a change needs an earlier hire';
  run.summary.changed += 1;
  const { person, moved } = await updatePerson(work, run, event, match as Match & { identity: Identity }, effects);
  if (person.hrEndsAt && person.hrEndsAt.getTime() <= work.now.getTime() && person.status === 'active') {
    effects.push(...await offboard(work, run, person, event, `HR end date ${person.hrEndsAt.toISOString()} passed`));
  } else if (moved.length > 0 && person.status === 'active') await move(work, run, person, moved, event, effects);
  return person;
};

const leave = async (work: Work, run: HrRunState, event: HrEventData, match: Match, effects: string[]): Promise<Identity | string> => {
  if (!match.identity) return 'no such person: nothing to offboard';
  const { person } = await updatePerson(work, run, event, match as Match & { identity: Identity }, effects);
  effects.push(...await offboard(work, run, person, event, leaveReason(event)));
  return person;
};

/** Applies the event in the caller's transaction; the caller records the event row with the result. */
export const applyHrEvent = async (work: Work, run: HrRunState, event: HrEventData): Promise<Applied> => {
  const match = await matchIdentity(work, event);
  // Events from one source apply in effective order; an older one arriving later would undo a newer
  // one. A leave is the exception: removing access is never held back by ordering.
  if (match.own && match.own.effectiveAt > event.effectiveAt && event.type !== 'leave') {
    run.summary.superseded += 1;
    return { status: 'superseded', identityId: match.identity?.id ?? null, outcome: { supersededBy: match.own.effectiveAt.toISOString() } };
  }
  const effects: string[] = [];
  const result = event.type === 'hire' ? await hire(work, run, event, match, effects)
    : event.type === 'change' ? await change(work, run, event, match, effects)
      : await leave(work, run, event, match, effects);
  if (typeof result === 'string') {
    noteChange(run, { event: `${event.source}/${event.eventId}`, person: event.employeeId, type: event.type, outcome: 'refused', effects: [result] });
    run.summary.refused += 1;
    return { status: 'discarded', identityId: match.identity?.id ?? null, outcome: { refused: result } };
  }
  await saveRecord(work, event, result.id, match.own);
  noteApplied(work, run, event, result, effects);
  return { status: 'applied', identityId: result.id, outcome: { effects } };
};
