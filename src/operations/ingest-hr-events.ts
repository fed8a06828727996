import { createHash } from 'node:crypto';
import canonicalize from 'canonicalize';
import { z } from 'zod';
import { TenureError } from '../domain/errors.js';
import { HR_EVENT_TYPES, type HrAttributes } from '../domain/hr.js';
import { loadAppliedPolicy } from '../policy/applied.js';
import { authorize } from './authorize.js';
import { inTransaction, type Context } from '../work/context.js';
import { instant, parseInput, text } from './input.js';
import { countSuspensions, holdBatch } from './lib/hr/brake.js';
import type { HrEventData } from './lib/hr/match.js';
import { inEffectiveOrder, newRun, processChunk, processInChunks } from './lib/hr/process.js';
import { adoptDraft, draftOf, type HrRunState } from './lib/hr/run.js';

const isoDate = instant.transform((d) => d.toISOString());
export const HrAttributesInput = z.object({
  name: text(200).optional(), email: z.email().optional(), manager: text(100).optional(), department: text(200).optional(),
  title: text(200).optional(), location: text(200).optional(), employment_class: text(100).optional(),
  start_date: isoDate.optional(), end_date: isoDate.optional(),
}).strict();

export const HrEventInput = z.object({
  source: z.string().regex(/^[a-z0-9]+(-[a-z0-9]+)*$/, 'must be lowercase letters, digits and single dashes, such as workday'),
  id: text(200),
  type: z.enum(HR_EVENT_TYPES),
  employee_id: text(100),
  effective_at: instant,
  attributes: HrAttributesInput.default({}),
}).strict();

/** An API call carries at most this many events (one transaction); files go through `tenure hr import`. */
export const MAX_EVENTS_PER_CALL = 1000;
export const Input = z.object({
  events: z.array(HrEventInput).min(1, 'must hold at least one event').max(MAX_EVENTS_PER_CALL, `must hold at most ${MAX_EVENTS_PER_CALL} events`),
  dryRun: z.boolean().default(false),
}).strict();

type EventInput = z.output<typeof HrEventInput>;

/** The event as Tenure keeps it, with a digest of its content: the same id with other content is not a replay. */
export const toEventData = (e: EventInput): HrEventData => {
  const attributes = e.attributes as HrAttributes;
  const digest = createHash('sha256').update(canonicalize({ ...e, effective_at: e.effective_at.toISOString(), attributes }) ?? '').digest('hex');
  return { source: e.source, eventId: e.id, type: e.type, employeeId: e.employee_id, effectiveAt: e.effective_at, attributes, digest };
};

export interface HrRunResult {
  dryRun: boolean;
  held: { batchId: string | null; wouldSuspend: number; population: number; share: number } | null;
  summary: HrRunState['summary'];
  changes: HrRunState['changes'];
}

class DryRunRollback extends Error { constructor(readonly run: HrRunState) { super('dry run'); } }

/** Sources the policy does not name are refused at their field, before anything is written. */
const checkSources = (events: readonly HrEventData[], sources: string[] | null): void => {
  if (!sources) return;
  const index = events.findIndex((e) => !sources.includes(e.source));
  if (index >= 0) {
    throw new TenureError('hr.unknown_source', `events.${index}.source: '${events[index]!.source}' is not one of ${sources.join(', ')}`,
      { field: `events.${index}.source` });
  }
};

/**
 * Runs HR events (from the API or a file): authorised, checked against the policy's sources and the
 * suspension brake, then applied in effective order, chunk by chunk. A dry run applies everything in
 * one transaction and rolls it back, so what it reports is exactly what would happen.
 */
export const runHrEvents = async (
  ctx: Context, events: HrEventData[], options: { dryRun: boolean; channel: string; afterChunk?: () => Promise<void> },
): Promise<HrRunResult> => {
  const pre = await inTransaction(ctx, async (work) => {
    await authorize(work, 'hr.ingest');
    const policy = await loadAppliedPolicy(work.tx);
    const run = newRun(policy);
    checkSources(events, run.settings.sources);
    run.summary.received = events.length;
    const count = await countSuspensions(work, events, run.settings.brake);
    if (!count.trips) return { run, held: null };
    const share = count.population === 0 ? 1 : count.wouldSuspend / count.population;
    const batchId = options.dryRun ? null : await holdBatch(work, events, count, run.settings.brake, options.channel);
    return { run, held: { batchId, wouldSuspend: count.wouldSuspend, population: count.population, share } };
  });
  const { run, held } = pre;
  if (held) return { dryRun: options.dryRun, held, summary: run.summary, changes: [] };
  const notRecorded = () => false;
  if (!options.dryRun) {
    await processInChunks(ctx, run, events, notRecorded, null, options.afterChunk);
    return { dryRun: false, held: null, summary: run.summary, changes: run.changes };
  }
  try {
    await inTransaction(ctx, async (work) => {
      const draft = draftOf(run);
      await processChunk(work, draft, inEffectiveOrder(events), notRecorded, null);
      throw new DryRunRollback(draft);
    });
  } catch (error) {
    if (!(error instanceof DryRunRollback)) throw error;
    adoptDraft(run, error.run);
  }
  return { dryRun: true, held: null, summary: run.summary, changes: run.changes };
};

/** `POST /v1/hr/events`: a batch of at most 1,000 events. */
export const ingestHrEvents = async (ctx: Context, input: z.input<typeof Input>): Promise<HrRunResult> => {
  const data = parseInput(Input, input);
  return runHrEvents(ctx, data.events.map(toEventData), { dryRun: data.dryRun, channel: ctx.actor.channel });
};
