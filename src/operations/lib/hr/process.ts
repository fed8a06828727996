/**
 * Running HR events through: in effective order, in chunks that each commit with their audit events,
 * serialised with any other HR run so that one person's events never interleave. Each chunk first
 * drops events it has already seen (a replay changes nothing), then applies what is due and keeps
 * what is not yet effective as `scheduled`, and records every event with what it did.
 */
import { and, inArray, sql } from 'drizzle-orm';
import type { HrEventStatus } from '../../../domain/hr.js';
import { TenureError } from '../../../domain/errors.js';
import { newId } from '../../../domain/ids.js';
import type { AppliedPolicy } from '../../../domain/policy-types.js';
import { DEFAULT_HR_SETTINGS } from '../../../domain/hr.js';
import { DEFAULT_REVIEW_SETTINGS } from '../../../domain/reviews.js';
import { hrEvents } from '../../../store/schema-hr.js';
import { inTransaction, type Context, type Work } from '../../../work/context.js';
import { birthrightCatalogue } from './birthright.js';
import { applyHrEvent } from './apply.js';
import { bulkHires, hireInBulk } from './bulk-hire.js';
import { leaveInBulk, mayLeaveInBulk } from './bulk-leave.js';
import type { HrEventData } from './match.js';
import { adoptDraft, draftOf, emptySummary, type HrRunState } from './run.js';

type ExistingEvent = { source: string; eventId: string; digest: string; status: HrEventStatus; batchId: string | null };
/** Which already-recorded events this run applies (a confirmed held batch, due scheduled events); any other is a replay. */
export type Reprocess = (existing: ExistingEvent) => boolean;

export const CHUNK = 1000;
const keyOf = (e: { source: string; eventId: string }) => `${e.source}\u0000${e.eventId}`;

export const newRun = (policy: AppliedPolicy): HrRunState => ({
  settings: policy.hr ?? DEFAULT_HR_SETTINGS, profiles: policy.accessProfiles ?? [],
  reviewDueMs: policy.reviews?.eventDueInMs ?? DEFAULT_REVIEW_SETTINGS.eventDueInMs,
  catalogue: new Map(), separationOfDuties: policy.separationOfDuties, summary: emptySummary(), changes: [],
});

/** The events of this chunk not seen before; an id seen with other content is refused rather than guessed at. */
const unseen = async (work: Work, events: HrEventData[], reprocess: Reprocess, run: HrRunState): Promise<HrEventData[]> => {
  const existing = await work.tx.select({ source: hrEvents.source, eventId: hrEvents.eventId, digest: hrEvents.digest,
    status: hrEvents.status, batchId: hrEvents.batchId }).from(hrEvents)
    .where(and(inArray(hrEvents.source, [...new Set(events.map((e) => e.source))]), inArray(hrEvents.eventId, events.map((e) => e.eventId))));
  const known = new Map(existing.map((e) => [keyOf(e), e]));
  return events.filter((event) => {
    const before = known.get(keyOf(event));
    if (!before) return true;
    if (before.digest !== event.digest) {
      throw new TenureError('hr.event_id_reused', `event ${event.source}/${event.eventId} was received before with different content`, { field: 'events' });
    }
    if (reprocess(before)) return true;
    run.summary.replayed += 1;
    return false;
  });
};

interface Recorded { event: HrEventData; status: HrEventStatus; identityId: string | null; outcome: Record<string, unknown> | null }

const record = async (work: Work, rows: Recorded[], batchId: string | null): Promise<void> => {
  if (rows.length === 0) return;
  await work.tx.insert(hrEvents).values(rows.map(({ event: e, status, identityId, outcome }) => ({
    id: newId(), source: e.source, eventId: e.eventId, employeeId: e.employeeId, type: e.type, effectiveAt: e.effectiveAt,
    attributes: e.attributes, digest: e.digest, status, identityId, batchId, outcome, receivedAt: work.now,
    appliedAt: status === 'scheduled' ? null : work.now,
  }))).onConflictDoUpdate({ target: [hrEvents.source, hrEvents.eventId], set: {
    status: sql`excluded.status`, identityId: sql`excluded.identity_id`, outcome: sql`excluded.outcome`, appliedAt: sql`excluded.applied_at`,
  } });
};

/** Events in their order: a run of leaves in bulk where it can be (see bulk-leave.ts), the rest one by one or kept as scheduled. */
const applyInOrder = async (work: Work, run: HrRunState, events: HrEventData[]): Promise<Recorded[]> => {
  const rows: Recorded[] = [];
  for (let i = 0; i < events.length;) {
    let end = i;
    while (end < events.length && mayLeaveInBulk(work, run, events[end]!)) end += 1;
    if (end > i) {
      for (const [event, applied] of await leaveInBulk(work, run, events.slice(i, end), (e) => applyHrEvent(work, run, e))) rows.push({ event, ...applied });
      i = end;
      continue;
    }
    const event = events[i++]!;
    if (event.effectiveAt.getTime() > work.now.getTime()) {
      run.summary.scheduled += 1;
      rows.push({ event, status: 'scheduled', identityId: null, outcome: null });
    } else rows.push({ event, ...await applyHrEvent(work, run, event) });
  }
  return rows;
};

export const processChunk = async (work: Work, run: HrRunState, events: HrEventData[], reprocess: Reprocess, batchId: string | null) => {
  // One HR run at a time: the lock is held to commit, so a person's events apply in one order even
  // when two imports or API calls overlap.
  await work.tx.execute(sql`SELECT pg_advisory_xact_lock(hashtext('tenure.hr-feed'))`);
  if (run.catalogue.size === 0) run.catalogue = await birthrightCatalogue(work.tx);
  const rows: Recorded[] = [];
  const fresh = await unseen(work, events, reprocess, run);
  const bulk = await bulkHires(work, run, fresh);
  if (bulk.size > 0) {
    for (const [event, hired] of await hireInBulk(work, run, [...bulk])) {
      rows.push({ event, status: 'applied', identityId: hired.identityId, outcome: { effects: hired.effects } });
    }
  }
  rows.push(...await applyInOrder(work, run, fresh.filter((e) => !bulk.has(e))));
  await record(work, rows, batchId);
};

/** Effective order (stable, so events of one instant keep the order they were sent in). */
export const inEffectiveOrder = (events: readonly HrEventData[]): HrEventData[] =>
  events.map((e, i) => ({ e, i })).sort((a, b) => a.e.effectiveAt.getTime() - b.e.effectiveAt.getTime() || a.i - b.i).map((x) => x.e);

/**
 * Leaves are the events that must not wait: a chunk closes after this many of them, so a leaver in
 * a long batch is suspended (and denied by the decision point) within about a second, not after the
 * whole chunk of a thousand.
 */
export const LEAVES_PER_CHUNK = 100;

export const chunksOf = (ordered: readonly HrEventData[]): HrEventData[][] => {
  const chunks: HrEventData[][] = [];
  let current: HrEventData[] = [];
  let leaves = 0;
  for (const event of ordered) {
    current.push(event);
    if (event.type === 'leave') leaves += 1;
    if (current.length === CHUNK || leaves === LEAVES_PER_CHUNK) { chunks.push(current); current = []; leaves = 0; }
  }
  if (current.length > 0) chunks.push(current);
  return chunks;
};

/** Applies the events chunk by chunk, each chunk its own transaction; returns the run's report. */
export const processInChunks = async (
  ctx: Context, run: HrRunState, events: readonly HrEventData[], reprocess: Reprocess, batchId: string | null,
  afterChunk?: () => Promise<void>,
): Promise<HrRunState> => {
  for (const chunk of chunksOf(inEffectiveOrder(events))) {
    adoptDraft(run, await inTransaction(ctx, async (work) => {
      const draft = draftOf(run);
      await processChunk(work, draft, chunk, reprocess, batchId);
      return draft;
    }));
    await afterChunk?.();
  }
  return run;
};
