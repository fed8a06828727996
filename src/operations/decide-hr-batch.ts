import { and, asc, eq } from 'drizzle-orm';
import { z } from 'zod';
import { TenureError } from '../domain/errors.js';
import { isUuid } from '../domain/ids.js';
import { loadAppliedPolicy } from '../policy/applied.js';
import { findings } from '../store/schema-provisioning.js';
import { hrBatches, hrEvents } from '../store/schema-hr.js';
import { authorize, requirePerson } from './authorize.js';
import { inTransaction, type Context, type Work } from '../work/context.js';
import { parseInput, ref, text } from './input.js';
import { resolveFindingsWhere } from './lib/provisioning/findings.js';
import { eventDataOf } from './lib/hr/match.js';
import { newRun, processInChunks } from './lib/hr/process.js';
import { partiesOfIdentities, refuseParties } from './lib/approval/parties.js';
import type { HrRunResult } from './ingest-hr-events.js';

export const Input = z.object({ batch: ref, decision: z.enum(['confirm', 'discard']), reason: text() }).strict();

/** Locks the held batch: two people deciding it at once get one decision and one refusal. */
const lockHeldBatch = async (work: Work, id: string) => {
  const missing = () => new TenureError('hr.batch_not_found', `no HR batch '${id}'`, { field: 'batch' });
  if (!isUuid(id)) throw missing();
  const [batch] = await work.tx.select().from(hrBatches).where(eq(hrBatches.id, id)).for('update');
  if (!batch) throw missing();
  if (batch.status !== 'held') throw new TenureError('hr.batch_decided', `HR batch ${id} was already ${batch.status}`, { field: 'batch' });
  return batch;
};

/**
 * Security's answer to a batch held by the suspension brake: `confirm` applies it as if it had just
 * arrived (the brake is what was confirmed), `discard` drops every event in it. Only a person with
 * `hr.release_brake` decides; whoever sent the batch (the HR integration, or the person who imported
 * the file) cannot confirm or discard it.
 */
export const decideHrBatch = async (ctx: Context, input: z.input<typeof Input>): Promise<HrRunResult & { batchId: string; decision: string }> => {
  const data = parseInput(Input, input);
  const decided = await inTransaction(ctx, async (work) => {
    const acting = await authorize(work, 'hr.release_brake');
    requirePerson(acting, 'confirm or discard a held HR batch');
    const batch = await lockHeldBatch(work, data.batch);
    // Whoever sent the batch (and whoever stands behind that identity) is not the second pair of eyes on it.
    refuseParties(work, await partiesOfIdentities(work.tx, [batch.createdBy]), 'hr.own_batch_forbidden',
      'you sent this HR batch (or created or own the identity that did): someone else confirms or discards it');
    const status = data.decision === 'confirm' ? 'confirmed' as const : 'discarded' as const;
    await work.tx.update(hrBatches).set({ status, decidedBy: acting.identity.id, decidedAt: work.now, reason: data.reason })
      .where(eq(hrBatches.id, batch.id));
    if (status === 'discarded') {
      await work.tx.update(hrEvents).set({ status: 'discarded', outcome: { discarded: data.reason } }).where(eq(hrEvents.batchId, batch.id));
    }
    await resolveFindingsWhere(work, eq(findings.key, `hr_feed_held:${batch.id}`), `${status} by ${acting.identity.handle}: ${data.reason}`);
    work.record({ action: status === 'confirmed' ? 'hr.batch_confirmed' : 'hr.batch_discarded', subject: { type: 'hr_batch', id: batch.id },
      before: { status: 'held' }, after: { status, events: batch.events, wouldSuspend: batch.wouldSuspend }, reason: data.reason });
    const events = status === 'discarded' ? [] : await work.tx.select().from(hrEvents)
      .where(and(eq(hrEvents.batchId, batch.id), eq(hrEvents.status, 'held'))).orderBy(asc(hrEvents.effectiveAt));
    return { batchId: batch.id, events, run: newRun(await loadAppliedPolicy(work.tx)) };
  });
  const events = decided.events.map(eventDataOf);
  decided.run.summary.received = events.length;
  const run = await processInChunks(ctx, decided.run, events, (e) => e.status === 'held' && e.batchId === decided.batchId, decided.batchId);
  return { batchId: decided.batchId, decision: data.decision, dryRun: false, held: null, summary: run.summary, changes: run.changes };
};
