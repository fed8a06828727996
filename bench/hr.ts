/**
 * The HR feed at scale: a CSV import of many new people (each with two birthright grants, their
 * provisioning jobs and audit events), then a burst of leavers sent as the API would receive them,
 * 1,000 per call, with the decision point refreshed after each call: the lag is how long after a
 * call commits its leavers are denied.
 */
import { DecisionService } from '../src/decision/service.js';
import type { ManualClock } from '../src/domain/clock.js';
import type { Context } from '../src/work/context.js';
import { importHrFile } from '../src/operations/import-hr-file.js';
import { runHrEvents, toEventData } from '../src/operations/ingest-hr-events.js';
import type { Store } from '../src/store/database.js';
import { applyHrPolicy } from '../test/support/hr.js';
import type { World } from '../test/support/world.js';
import { LEAVES_PER_CHUNK } from '../src/operations/lib/hr/process.js';
import { median, type BenchResult } from './report.js';

const csvOf = (prefix: string, n: number, at: string): string => {
  const lines = ['employee_id,type,effective_at,name,email,department,title'];
  for (let i = 0; i < n; i += 1) lines.push(`${prefix}${i},hire,${at},Person ${prefix}${i},${prefix.toLowerCase()}${i}@bench.example,Finance,Analyst`);
  return lines.join('\n');
};

const result = (name: string, backend: string, n: number, times: number[], target: string): BenchResult => {
  const medianMs = median(times);
  return { name, backend, n, medianMs, perSecond: n / (medianMs / 1000), target };
};

export const benchHr = async (store: Store, w: World, backend: string, sizes: { people: number; leavers: number; runs: number }) => {
  // A brake that a whole-organisation import cannot trip: the benchmark measures the work, not the hold.
  await applyHrPolicy(w, { brake: { share: '100%', minimum: 0 } });
  const ivan: Context = await w.as('ivan');
  const at = w.clock.now().toISOString();
  const imports: number[] = [];
  for (let run = 0; run < sizes.runs; run += 1) {
    const csv = csvOf(`R${run}-`, sizes.people, at);
    const start = performance.now();
    const report = await importHrFile(ivan, { csv, source: 'workday' });
    imports.push(performance.now() - start);
    if (report.summary.hired !== sizes.people) throw new Error(`expected ${sizes.people} hires, got ${report.summary.hired}`);
  }
  const decisions = await DecisionService.start({ store, clock: w.clock as ManualClock, poll: false });
  const leavers = Array.from({ length: sizes.leavers }, (_, i) => toEventData({ source: 'workday', id: `leave-${i}`, type: 'leave',
    employee_id: `R0-${i}`, effective_at: new Date(at), attributes: {} }));
  const lags: number[] = [];
  const chunkTimes: number[] = [];
  let chunkStart = performance.now();
  // After each commit, the time until the decision point denies that chunk's leavers.
  const afterChunk = async () => {
    const committed = performance.now();
    chunkTimes.push(committed - chunkStart);
    await decisions.sync();
    lags.push(performance.now() - committed);
    chunkStart = performance.now();
  };
  const burstStart = performance.now();
  for (let i = 0; i < leavers.length; i += 1000) {
    chunkStart = performance.now();
    await runHrEvents(ivan, leavers.slice(i, i + 1000), { dryRun: false, channel: 'api', afterChunk });
  }
  const burstMs = performance.now() - burstStart;
  const denied = leavers.filter((_, i) => decisions.check({ identity: `person.r0-${i}`, entitlement: 'payments/read' }).decision === 'deny').length;
  await decisions.stop();
  if (denied !== sizes.leavers) throw new Error(`only ${denied} of ${sizes.leavers} leavers denied`);
  return [
    result('HR CSV import: new people with 2 birthright grants each', backend, sizes.people, imports, 'thousands per second'),
    result('HR leaver burst, 1,000 per call: all processed', backend, sizes.leavers, [burstMs], 'n/a'),
    { ...result('HR leaver burst: longest commit of 100 leavers', backend, LEAVES_PER_CHUNK, [Math.max(...chunkTimes)], '≈ 1 s'), perSecond: 0 },
    { ...result('HR leaver burst: commit → decision point denies (max)', backend, LEAVES_PER_CHUNK, [Math.max(...lags)], '< 1 s'), perSecond: 0 },
  ];
};
