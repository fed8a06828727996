/**
 * The decision point: index load time and heap, decisions per second in process (one core) with
 * p50/p99 latency, the same decisions by Cedar (preparsed policy set) as a ratio, how soon a change
 * committed elsewhere is seen, and POST /v1/check over loopback HTTP at a fixed rate (decision-http.ts).
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { DecisionService, type CheckRequest } from '../src/decision/service.js';
import { changeIdentityStatus } from '../src/operations/change-identity-status.js';
import { openPostgres, type Store } from '../src/store/database.js';
import { freshStore, type Backend } from '../test/support/backends.js';
import { createScratchDatabase } from '../test/support/postgres-server.js';
import { buildWorld, type World } from '../test/support/world.js';
import { benchCedar } from './decision-cedar.js';
import { generateDecisionData } from './decision-data.js';
import { benchBareHttp, benchCheckOverHttp } from './decision-http.js';
import { median, type BenchResult } from './report.js';

export interface DecisionBenchSizes {
  identities: number; grantsPerIdentity: number; checks: number; cedarChecks: number; lagSamples: number;
  /** Loopback HTTP runs, one per rate (requests per second), each `seconds` long. */
  http: { rates: number[]; seconds: number };
}

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;
const heapMiB = () => { gc(); gc(); return process.memoryUsage().heapUsed / 2 ** 20; };
const fmt = (n: number, digits = 0) => n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))]!;

/** Opens a scratch store; on a server also returns its URL (the change feed LISTENs on its own connection). */
const openBenchStore = async (backend: Backend): Promise<{ store: Store; url?: string; close(): Promise<void> }> => {
  if (backend === 'embedded') { const store = await freshStore('embedded'); return { store, close: () => store.close() }; }
  const scratch = await createScratchDatabase();
  const store = await openPostgres(scratch.url, { max: 8 });
  return { store, url: scratch.url, close: async () => { await store.close(); await scratch.drop(); } };
};

const benchLoad = async (store: Store, backend: Backend, grants: number, identities: number, runs: number) => {
  const times: number[] = [];
  let heap = 0;
  let service: DecisionService | undefined;
  for (let i = 0; i < runs; i += 1) {
    await service?.stop();
    service = undefined;
    const before = heapMiB();
    const start = performance.now();
    service = await DecisionService.start({ store, poll: false, stalenessMs: 3_600_000 });
    times.push(performance.now() - start);
    heap = heapMiB() - before;
  }
  const medianMs = median(times);
  const result: BenchResult = {
    name: `load decision index (${fmt(identities)} identities, ${fmt(grants)} grants; heap +${fmt(heap)} MiB)`,
    backend, n: grants, medianMs, perSecond: grants / (medianMs / 1000),
  };
  return { service: service!, result };
};

/**
 * The floor measured in the same run: one Map lookup of each question's identity among as many
 * entries as there are identities asked about, the least any answer must do (the index holds them so).
 */
const lookupFloorMs = (questions: CheckRequest[], checks: number, runs: number): number => {
  const byHandle = new Map(questions.map((q) => [q.identity, { held: [q.entitlement] }]));
  const q = questions.length;
  let found = 0;
  const times: number[] = [];
  for (let r = 0; r < runs; r += 1) {
    const start = performance.now();
    for (let i = 0; i < checks; i += 1) found += byHandle.get(questions[i % q]!.identity)?.held.length ?? 0;
    times.push(performance.now() - start);
  }
  if (found === 0) throw new Error('the floor found nothing');
  return median(times);
};

const benchInProcess = (service: DecisionService, backend: Backend, questions: CheckRequest[], checks: number, runs: number): BenchResult => {
  const q = questions.length;
  let allowed = 0;
  for (let i = 0; i < Math.min(checks, 200_000); i += 1) if (service.check(questions[i % q]!).decision === 'allow') allowed += 1;
  const times: number[] = [];
  for (let r = 0; r < runs; r += 1) {
    const start = performance.now();
    for (let i = 0; i < checks; i += 1) if (service.check(questions[i % q]!).decision === 'allow') allowed += 1;
    times.push(performance.now() - start);
  }
  const samples: number[] = [];
  for (let i = 0; i < Math.min(checks, 200_000); i += 1) {
    const start = process.hrtime.bigint();
    service.check(questions[i % q]!);
    samples.push(Number(process.hrtime.bigint() - start) / 1000);
  }
  samples.sort((a, b) => a - b);
  const medianMs = median(times);
  if (allowed === 0) throw new Error('the benchmark questions allowed nothing: the data is wrong');
  const floor = checks / (lookupFloorMs(questions, checks, runs) / 1000);
  const perSecond = checks / (medianMs / 1000);
  return {
    name: `decide in process, one core (p50 ${fmt(percentile(samples, 0.5), 1)} µs, p99 ${fmt(percentile(samples, 0.99), 1)} µs; `
      + `floor ${fmt(floor)}/s, ${(perSecond / floor).toFixed(2)} of it)`,
    backend, n: checks, medianMs, perSecond, target: '≥ 1,000,000/s',
  };
};

/** A status change committed through one connection, until the other process's index answers differently. */
const benchFeedLag = async (w: World, reader: Store, url: string | undefined, backend: Backend, samples: number): Promise<BenchResult> => {
  const service = await DecisionService.start({ store: reader, clock: w.clock, poll: false, ...(url ? { databaseUrl: url } : {}) });
  const ivan = await w.as('ivan');
  const lags: number[] = [];
  try {
    for (let i = 0; i < samples; i += 1) {
      const status = i % 2 === 0 ? 'suspended' : 'active';
      const expected = status === 'suspended' ? 'identity_inactive' : 'no_grant';
      await changeIdentityStatus(ivan, { identity: 'eve', status, reason: 'bench' });
      const start = performance.now();
      if (!url) await service.sync();
      while (service.check({ identity: 'eve', entitlement: 'payments/read' }).reason !== expected) {
        if (performance.now() - start > 10_000) throw new Error('the change never reached the index');
        await new Promise((resolve) => setImmediate(resolve));
      }
      lags.push(performance.now() - start);
    }
  } finally {
    await service.stop();
  }
  const medianMs = median(lags);
  const sorted = [...lags].sort((a, b) => a - b);
  return {
    name: url ? `change seen by another process, LISTEN/NOTIFY (max ${fmt(sorted.at(-1)!, 1)} ms)` : `change seen after sync in the writing process (max ${fmt(sorted.at(-1)!, 1)} ms)`,
    backend, n: samples, medianMs, perSecond: 1000 / medianMs, target: 'well under the 1,000 ms poll',
  };
};

export const benchDecision = async (backend: Backend, sizes: DecisionBenchSizes, runs: number): Promise<BenchResult[]> => {
  const opened = await openBenchStore(backend);
  const results: BenchResult[] = [];
  let reader: Store | undefined;
  try {
    const w = await buildWorld(opened.store);
    const data = await generateDecisionData(opened.store, { olivia: await w.id('olivia'), sam: await w.id('sam') }, sizes, Math.min(sizes.checks, 100_000));
    const { service, result } = await benchLoad(opened.store, backend, data.grants, data.identities, runs);
    results.push(result);
    try {
      const inProcess = benchInProcess(service, backend, data.questions, sizes.checks, runs);
      results.push(inProcess);
      results.push(await benchCedar(opened.store, service, backend, data.questions.slice(0, sizes.cedarChecks), runs, inProcess.perSecond));
      for (const rate of sizes.http.rates) {
        results.push(await benchCheckOverHttp(opened.store, w, service, backend, data.questions, { rate, seconds: sizes.http.seconds }));
      }
      results.push(await benchBareHttp(backend, { rate: Math.max(...sizes.http.rates), seconds: sizes.http.seconds }));
    } finally {
      await service.stop();
    }
    reader = opened.url ? await openPostgres(opened.url, { max: 2 }) : opened.store;
    results.push(await benchFeedLag(w, reader, opened.url, backend, sizes.lagSamples));
  } finally {
    if (reader && reader !== opened.store) await reader.close();
    await opened.close();
  }
  return results;
};
