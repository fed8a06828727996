/**
 * `npm run bench` (full sizes) or `npm run bench -- --smoke` (tiny sizes, run by the test suite so
 * the harness cannot rot). `--backend embedded|postgres` narrows the run. Prints a table and writes
 * it to bench/results/.
 */
import { fileURLToPath } from 'node:url';
import { freshStore, type Backend } from '../test/support/backends.js';
import { buildWorld } from '../test/support/world.js';
import { benchApprovals } from './approvals.js';
import { benchDecision, type DecisionBenchSizes } from './decision.js';
import { benchExpireGrants } from './expire-grants.js';
import { benchHr } from './hr.js';
import { benchReconcile, buildProvisioningBenchWorld } from './reconcile.js';
import { renderTable, writeReport, type BenchResult } from './report.js';

const args = process.argv.slice(2);
const smoke = args.includes('--smoke');
const only = args.includes('--backend') ? args[args.indexOf('--backend') + 1] : undefined;
const backends: Backend[] = (['embedded', 'postgres'] as const).filter((b) => !only || b === only);

const SIZES = smoke
  ? { hr: { people: 300, leavers: 100 }, expire: { embedded: 200, postgres: 200 }, verify: { embedded: 500, postgres: 500 }, reconcile: { embedded: 300, postgres: 300 }, approvals: 5, runs: 1 }
  : { hr: { people: 100_000, leavers: 10_000 }, expire: { embedded: 20_000, postgres: 100_000 }, verify: { embedded: 100_000, postgres: 1_000_000 },
      reconcile: { embedded: 100_000, postgres: 100_000 }, approvals: 100, runs: 3 };

/** The decision point: 100k identities and 1M grants on a server; a tenth of that in PGlite (one process, one session). */
const DECISION: Record<Backend, DecisionBenchSizes> = smoke
  ? { embedded: { identities: 200, grantsPerIdentity: 5, checks: 2_000, cedarChecks: 50, lagSamples: 2, http: { rates: [100], seconds: 0.5 } },
      postgres: { identities: 200, grantsPerIdentity: 5, checks: 2_000, cedarChecks: 50, lagSamples: 2, http: { rates: [100], seconds: 0.5 } } }
  : { embedded: { identities: 10_000, grantsPerIdentity: 10, checks: 2_000_000, cedarChecks: 10_000, lagSamples: 20, http: { rates: [250, 500], seconds: 5 } },
      postgres: { identities: 100_000, grantsPerIdentity: 10, checks: 2_000_000, cedarChecks: 20_000, lagSamples: 20, http: { rates: [500, 2_000], seconds: 5 } } };

const verifyBench = async (): Promise<((store: Awaited<ReturnType<typeof freshStore>>, o: { events: number }) => Promise<BenchResult>) | undefined> => {
  try {
    return (await import('./audit-verify.js')).benchAuditVerify;
  } catch {
    return undefined;
  }
};

const results: BenchResult[] = [];
for (const backend of backends) {
  const store = await freshStore(backend, { poolSize: 4 });
  try {
    const w = await buildWorld(store);
    results.push(await benchExpireGrants(store, w, backend, SIZES.expire[backend], SIZES.runs));
    results.push(await benchApprovals(w, backend, SIZES.approvals, SIZES.runs));
  } finally {
    await store.close();
  }
  // Its own database: the reconciliation must not also scan the expiry benchmark's grants.
  const reconcileStore = await freshStore(backend, { poolSize: 4 });
  try {
    const w = await buildProvisioningBenchWorld(reconcileStore);
    results.push(await benchReconcile(reconcileStore, w, backend, SIZES.reconcile[backend], SIZES.runs));
  } finally {
    await reconcileStore.close();
  }
  const hrStore = await freshStore(backend, { poolSize: 4 });
  try {
    results.push(...await benchHr(hrStore, await buildWorld(hrStore), backend, { ...SIZES.hr, runs: SIZES.runs }));
  } finally {
    await hrStore.close();
  }
  results.push(...await benchDecision(backend, DECISION[backend], SIZES.runs));
  const verify = await verifyBench();
  if (verify) {
    const auditStore = await freshStore(backend);
    try {
      results.push(await verify(auditStore, { events: SIZES.verify[backend] }));
    } finally {
      await auditStore.close();
    }
  }
}

console.log(renderTable(results));
if (!smoke) console.log(`\nwritten to ${writeReport(results, fileURLToPath(new URL('./results', import.meta.url)), backends.join('+'))}`);
