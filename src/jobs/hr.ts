/**
 * The HR feed's work over time: events that have become effective, contract end dates that passed,
 * contractors whose sponsor left and nobody took over within the window, and ownership findings
 * closed once someone has taken over.
 */
import { and, asc, eq, inArray, isNotNull, lte } from 'drizzle-orm';
import { newRun, processInChunks } from '../operations/lib/hr-process.js';
import { eventDataOf, type HrEventData } from '../operations/lib/hr-match.js';
import { offboard } from '../operations/lib/hr-leaver.js';
import { endIdentity } from '../operations/lib/end-identity.js';
import { resolveFindingsWhere } from '../operations/lib/findings.js';
import { inTransaction, type Context } from '../operations/context.js';
import { loadAppliedPolicy } from '../policy/applied.js';
import type { Identity } from '../store/queries/identities.js';
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
      .where(and(inArray(identities.id, ending.map((e) => e.id)), eq(identities.status, 'active'))).for('update') as Identity[];
    for (const person of people) {
      const event: HrEventData = { source: 'tenure', eventId: `end-date:${person.id}`, type: 'leave', employeeId: person.employeeId ?? person.handle,
        effectiveAt: person.hrEndsAt!, attributes: {}, digest: '' };
      await offboard(work, run, person, event, `HR end date ${person.hrEndsAt!.toISOString()} passed`);
    }
  });
  return ending.length;
};

type OwnershipEvidence = { subjectType: string; subjectId: string; formerOwnerId: string };

/** Who answers for the subject now, or undefined when the subject is gone (ended, retired, suspended). */
const currentOwner = async (ctx: Context, e: OwnershipEvidence): Promise<string | null | undefined> => {
  const db = ctx.store.db;
  if (e.subjectType === 'engagement') {
    const [row] = await db.select({ owner: engagements.sponsorId, status: engagements.status }).from(engagements).where(eq(engagements.id, e.subjectId));
    return row?.status === 'active' ? row.owner : undefined;
  }
  if (e.subjectType === 'system') {
    const [row] = await db.select({ b: systems.businessOwnerId, t: systems.technicalOwnerId, retired: systems.retired }).from(systems)
      .where(eq(systems.id, e.subjectId));
    if (!row || row.retired) return undefined;
    return row.b === e.formerOwnerId || row.t === e.formerOwnerId ? e.formerOwnerId : row.b;
  }
  const [row] = await db.select({ sponsor: identities.sponsorId, owner: identities.ownerId, status: identities.status }).from(identities)
    .where(eq(identities.id, e.subjectId));
  if (!row || (row.status !== 'active' && row.status !== 'pending')) return undefined;
  return e.subjectType === 'service_account' ? row.owner : row.sponsor;
};

/**
 * Closes ownership findings whose subject has a new owner (re-assigned, or the policy changed a
 * system's owners) or is gone; suspends the sponsored contractors still without one past the window.
 */
export const settleOrphanedOwnership = async (ctx: Context): Promise<{ resolved: number; suspended: number }> => {
  const open = await ctx.store.db.select().from(findings)
    .where(and(eq(findings.kind, 'ownership_orphaned'), eq(findings.status, 'open'))).limit(BATCH);
  let resolved = 0;
  let suspended = 0;
  for (const finding of open) {
    const evidence = finding.evidence as OwnershipEvidence;
    const owner = await currentOwner(ctx, evidence);
    const overdue = finding.dueAt !== null && finding.dueAt.getTime() <= ctx.clock.now().getTime();
    if (owner !== evidence.formerOwnerId || (owner !== undefined && overdue && evidence.subjectType === 'sponsorship')) {
      await inTransaction(ctx, async (work) => {
        if (owner === evidence.formerOwnerId) {
          // Read again under the row lock: a re-assignment committed since the read above must win over the suspension.
          const [person] = await work.tx.select().from(identities).where(eq(identities.id, evidence.subjectId)).for('update');
          if (person?.status !== 'active' || person.sponsorId !== evidence.formerOwnerId) return;
          await endIdentity(work, person as Identity, 'suspended', `their sponsor left and nobody became sponsor by ${finding.dueAt!.toISOString()}`);
          suspended += 1;
        }
        resolved += await resolveFindingsWhere(work, eq(findings.id, finding.id),
          owner === evidence.formerOwnerId ? 'suspended: no new sponsor within the window' : owner === undefined ? 'the subject is gone' : 'a new owner is in place');
      });
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

