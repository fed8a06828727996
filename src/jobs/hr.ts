/**
 * The HR feed's work over time: events that have become effective, contract end dates that passed,
 * contractors whose sponsor left and nobody took over within the window, and ownership findings
 * closed once someone has taken over.
 */
import { and, asc, eq, inArray, isNotNull, lte } from 'drizzle-orm';
import { newRun, processInChunks } from '../operations/lib/hr/process.js';
import { eventDataOf, type HrEventData } from '../operations/lib/hr/match.js';
import { offboard } from '../operations/lib/hr/leaver.js';
import { endIdentity } from '../operations/lib/ending/end-identity.js';
import { resolveFindingsWhere } from '../operations/lib/provisioning/findings.js';
import { inTransaction, type Context } from '../work/context.js';
import { loadAppliedPolicy } from '../policy/applied.js';
import { engagements, identities, systems } from '../store/schema.js';
import { findings } from '../store/schema-provisioning.js';
import { hrEvents } from '../store/schema-hr.js';

const BATCH = 1000;

/** Events sent ahead of their effective time, applied once it comes. */
export const applyDueHrEvents = async (ctx: Context): Promise<number> => {
  const now = ctx.clock.now();
  const due = await ctx.store.db.select().from(hrEvents)
    .where(and(eq(hrEvents.status, 'scheduled'), lte(hrEvents.effectiveAt, now))).orderBy(asc(hrEvents.effectiveAt)).limit(BATCH * 5);
  if (due.length === 0) return 0;
  const policy = await loadAppliedPolicy(ctx.store.db);
  await processInChunks(ctx, newRun(policy), due.map(eventDataOf), (e) => e.status === 'scheduled', null);
  return due.length;
};

/** A person whose HR end date passed is a leaver, as if HR had sent the leave. */
export const offboardPastEndDates = async (ctx: Context): Promise<number> => {
  const now = ctx.clock.now();
  const ending = await ctx.store.db.select({ id: identities.id }).from(identities)
    .where(and(eq(identities.status, 'active'), isNotNull(identities.hrEndsAt), lte(identities.hrEndsAt, now))).limit(BATCH);
  if (ending.length === 0) return 0;
  const run = newRun(await loadAppliedPolicy(ctx.store.db));
  await inTransaction(ctx, async (work) => {
    const people = await work.tx.select().from(identities)
      // In id order: the lock order's rule for several identities (see inTransaction).
      .where(and(inArray(identities.id, ending.map((e) => e.id)), eq(identities.status, 'active'))).orderBy(asc(identities.id)).for('update');
    for (const person of people) {
      const event: HrEventData = { source: 'tenure', eventId: `end-date:${person.id}`, type: 'leave', employeeId: person.employeeId ?? person.handle,
        effectiveAt: person.hrEndsAt!, attributes: {}, digest: '' };
      await offboard(work, run, person, event, `HR end date ${person.hrEndsAt!.toISOString()} passed`);
    }
  });
  return ending.length;
};

type OwnershipEvidence = { subjectType: string; subjectId: string; formerOwnerId: string };

interface Owners {
  byEngagement: Map<string, string | undefined>;
  bySystem: Map<string, { b: string; t: string } | undefined>;
  byIdentity: Map<string, { sponsor: string | null; owner: string | null } | undefined>;
}

const distinct = (evidence: OwnershipEvidence[], keep: (type: string) => boolean) =>
  [...new Set(evidence.filter((e) => keep(e.subjectType)).map((e) => e.subjectId))];

/**
 * Everything the open findings' subjects say about who answers for them, in one query per kind of
 * subject rather than one per finding: after a reorganisation there can be thousands of findings, and
 * this runs on every worker pass. Subjects that are gone (ended, retired, suspended) map to undefined.
 */
const loadOwners = async (ctx: Context, evidence: OwnershipEvidence[]): Promise<Owners> => {
  const db = ctx.store.db;
  const engagementIds = distinct(evidence, (t) => t === 'engagement');
  const systemIds = distinct(evidence, (t) => t === 'system');
  const identityIds = distinct(evidence, (t) => t !== 'engagement' && t !== 'system');
  const [engs, syss, people] = await Promise.all([
    engagementIds.length === 0 ? [] : db.select({ id: engagements.id, owner: engagements.sponsorId, status: engagements.status }).from(engagements)
      .where(inArray(engagements.id, engagementIds)),
    systemIds.length === 0 ? [] : db.select({ id: systems.id, b: systems.businessOwnerId, t: systems.technicalOwnerId, retired: systems.retired })
      .from(systems).where(inArray(systems.id, systemIds)),
    identityIds.length === 0 ? [] : db.select({ id: identities.id, sponsor: identities.sponsorId, owner: identities.ownerId, status: identities.status })
      .from(identities).where(inArray(identities.id, identityIds)),
  ]);
  return {
    byEngagement: new Map(engs.map((r) => [r.id, r.status === 'active' ? r.owner : undefined])),
    bySystem: new Map(syss.map((r) => [r.id, r.retired ? undefined : { b: r.b, t: r.t }])),
    byIdentity: new Map(people.map((r) => [r.id, r.status === 'active' || r.status === 'pending' ? { sponsor: r.sponsor, owner: r.owner } : undefined])),
  };
};

/** Who answers for the subject now, or undefined when the subject is gone. */
const currentOwner = (owners: Owners, e: OwnershipEvidence): string | null | undefined => {
  if (e.subjectType === 'engagement') return owners.byEngagement.get(e.subjectId);
  if (e.subjectType === 'system') {
    const row = owners.bySystem.get(e.subjectId);
    if (!row) return undefined;
    return row.b === e.formerOwnerId || row.t === e.formerOwnerId ? e.formerOwnerId : row.b;
  }
  const row = owners.byIdentity.get(e.subjectId);
  if (!row) return undefined;
  return e.subjectType === 'service_account' ? row.owner : row.sponsor;
};

/**
 * Closes ownership findings whose subject has a new owner (re-assigned, or the policy changed a
 * system's owners) or is gone; suspends the sponsored contractors still without one past the window.
 */
export const settleOrphanedOwnership = async (ctx: Context): Promise<{ resolved: number; suspended: number }> => {
  const open = await ctx.store.db.select().from(findings)
    .where(and(eq(findings.kind, 'ownership_orphaned'), eq(findings.status, 'open'))).limit(BATCH);
  const owners = await loadOwners(ctx, open.map((f) => f.evidence as OwnershipEvidence));
  let resolved = 0;
  let suspended = 0;
  for (const finding of open) {
    const evidence = finding.evidence as OwnershipEvidence;
    const owner = currentOwner(owners, evidence);
    const overdue = finding.dueAt !== null && finding.dueAt.getTime() <= ctx.clock.now().getTime();
    if (owner !== evidence.formerOwnerId || (owner !== undefined && overdue && evidence.subjectType === 'sponsorship')) {
      // Counted from what committed: a retried transaction runs its function again.
      const done = await inTransaction(ctx, async (work) => {
        let ended = 0;
        if (owner === evidence.formerOwnerId) {
          // Read again under the row lock: a re-assignment committed since the read above must win over the suspension.
          const [person] = await work.tx.select().from(identities).where(eq(identities.id, evidence.subjectId)).for('update');
          if (person?.status !== 'active' || person.sponsorId !== evidence.formerOwnerId) return { ended: 0, closed: 0 };
          await endIdentity(work, person, 'suspended', `their sponsor left and nobody became sponsor by ${finding.dueAt!.toISOString()}`);
          ended = 1;
        }
        const closed = await resolveFindingsWhere(work, eq(findings.id, finding.id),
          owner === evidence.formerOwnerId ? 'suspended: no new sponsor within the window' : owner === undefined ? 'the subject is gone' : 'a new owner is in place');
        return { ended, closed };
      });
      suspended += done.ended;
      resolved += done.closed;
    }
  }
  return { resolved, suspended };
};

/** For `worker --once` and the service loop: every HR task in turn. */
export const runHrJobs = async (ctx: Context) => ({
  due: await applyDueHrEvents(ctx),
  endDates: await offboardPastEndDates(ctx),
  ownership: await settleOrphanedOwnership(ctx),
});

