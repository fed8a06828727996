/**
 * `npm run bench` (full sizes) or `npm run bench -- --smoke` (tiny sizes, run by the test suite so
 * the harness cannot rot). `--backend embedded|postgres` narrows the run, `--only hr` (or lifecycle, approvals, reconcile, console, inbox, lists, http, decision, verify, checkpoint, removal, pgproxy, sshproxy, startup) runs one group;
 * `--removal-grants 100000` measures removal with that many grants ending in one minute instead of the
 * default sizes (100,000 takes most of an hour). Prints a table and writes it to bench/results/.
 */
import { fileURLToPath } from 'node:url';
import type { Store } from '../src/store/database.js';
import { freshStore, type Backend } from '../test/support/backends.js';
import { buildWorld } from '../test/support/world.js';
import { benchApprovals } from './approvals.js';
import { benchAuditVerify, benchCheckpoint } from './audit-verify.js';
import { benchConsole } from './console.js';
import { benchDecision, type DecisionBenchSizes } from './decision.js';
import { benchExpireGrants } from './expire-grants.js';
import { benchHr } from './hr.js';
import { benchHttpServe, type HttpServeSizes } from './http-serve.js';
import { benchInbox } from './inbox.js';
import { benchLists, type ListSizes } from './lists.js';
import { benchPgProxy } from './pg-proxy.js';
import { benchReconcile, buildProvisioningBenchWorld } from './reconcile.js';
import { benchRemovalLag } from './removal-lag.js';
import { benchSshProxy } from './ssh-proxy.js';
import { benchStartup } from './startup.js';
import { renderTable, writeReport, type BenchResult } from './report.js';

const args = process.argv.slice(2);
const smoke = args.includes('--smoke');
const only = args.includes('--backend') ? args[args.indexOf('--backend') + 1] : undefined;
const backends: Backend[] = (['embedded', 'postgres'] as const).filter((b) => !only || b === only);
const group = args.includes('--only') ? args[args.indexOf('--only') + 1] : undefined;
const runs = (name: string) => group === undefined || group === name;
const removalGrants = args.includes('--removal-grants') ? Number(args[args.indexOf('--removal-grants') + 1]) : undefined;
if (removalGrants !== undefined && !(Number.isInteger(removalGrants) && removalGrants > 0)) throw new Error('--removal-grants: a whole number of grants, above 0');

const SIZES = smoke
  ? { hr: { people: 300, leavers: 100 }, expire: { embedded: 200, postgres: 200 }, verify: { embedded: 500, postgres: 500 }, reconcile: { embedded: 300, postgres: 300 }, console: 300, inbox: { requests: 1_000, asks: 3 }, approvals: { requests: 5, bulk: 10, lanes: 2 }, checkpoint: [10], removal: [[20, 3_000]] as [number, number][], runs: 1 }
  : { hr: { people: 100_000, leavers: 10_000 }, expire: { embedded: 20_000, postgres: 100_000 }, verify: { embedded: 100_000, postgres: 1_000_000 },
      reconcile: { embedded: 100_000, postgres: 100_000 }, console: 100_000, inbox: { requests: 100_000, asks: 100 }, approvals: { requests: 100, bulk: 1_000, lanes: 4 }, checkpoint: [1, 100, 1_000, 10_000],
      removal: [[1_000, 60_000], [10_000, 60_000]] as [number, number][], runs: 3 };

/** The decision point: 100k identities and 1M grants on a server; a tenth of that in PGlite (one process, one session). */
const DECISION: Record<Backend, DecisionBenchSizes> = smoke
  ? { embedded: { identities: 200, grantsPerIdentity: 5, checks: 2_000, cedarChecks: 50, lagSamples: 2, http: { rates: [100], seconds: 0.5 } },
      postgres: { identities: 200, grantsPerIdentity: 5, checks: 2_000, cedarChecks: 50, lagSamples: 2, http: { rates: [100], seconds: 0.5 } } }
  : { embedded: { identities: 10_000, grantsPerIdentity: 10, checks: 2_000_000, cedarChecks: 10_000, lagSamples: 20, http: { rates: [250, 500], seconds: 5 } },
      postgres: { identities: 100_000, grantsPerIdentity: 10, checks: 2_000_000, cedarChecks: 20_000, lagSamples: 20, http: { rates: [500, 2_000], seconds: 5 } } };

/** Lists at an installation's scale: on a server the issue's sizes; PGlite (one process, in memory) a tenth of most. */
const LISTS: Record<Backend, ListSizes> = smoke
  ? { embedded: { requests: 1_000, grants: 2_000, findings: 500, events: 5_000, asks: 3 }, postgres: { requests: 1_000, grants: 2_000, findings: 500, events: 5_000, asks: 3 } }
  : { embedded: { requests: 100_000, grants: 100_000, findings: 10_000, events: 1_000_000, asks: 100 },
      postgres: { requests: 100_000, grants: 1_000_000, findings: 100_000, events: 10_000_000, asks: 100 } };

/** A whole `tenure serve` under HTTP load (http-serve.ts): the decision bench's data, ten seconds a load. */
const HTTP: Record<Backend, HttpServeSizes> = smoke
  ? { embedded: { identities: 200, grantsPerIdentity: 5, seconds: 1, rates: [100] }, postgres: { identities: 200, grantsPerIdentity: 5, seconds: 1, rates: [100] } }
  : { embedded: { identities: 10_000, grantsPerIdentity: 10, seconds: 10, rates: [1_000, 5_000, 10_000] },
      postgres: { identities: 100_000, grantsPerIdentity: 10, seconds: 10, rates: [1_000, 5_000, 10_000] } };

const results: BenchResult[] = [];
/** Each group on its own database, so one group's rows never slow another's scans. */
const withStore = async (backend: Backend, fn: (store: Store) => Promise<BenchResult[]>, poolSize = 4): Promise<void> => {
  const store = await freshStore(backend, { poolSize });
  try {
    results.push(...await fn(store));
  } finally {
    await store.close();
  }
};

for (const backend of backends) {
  if (runs('lifecycle')) {
    await withStore(backend, async (store) => {
      const w = await buildWorld(store);
      return [await benchExpireGrants(store, w, backend, SIZES.expire[backend], SIZES.runs), ...await benchApprovals(w, backend, SIZES.approvals, SIZES.runs)];
    });
  }
  if (group === 'approvals') await withStore(backend, async (store) => benchApprovals(await buildWorld(store), backend, SIZES.approvals, SIZES.runs));
  if (runs('reconcile')) {
    await withStore(backend, async (store) => [await benchReconcile(store, await buildProvisioningBenchWorld(store), backend, SIZES.reconcile[backend], SIZES.runs)]);
  }
  if (runs('console')) await withStore(backend, async (store) => benchConsole(store, await buildWorld(store), backend, SIZES.console, SIZES.runs));
  if (runs('lists')) await withStore(backend, async (store) => benchLists(store, await buildWorld(store), backend, LISTS[backend]));
  if (runs('inbox')) await withStore(backend, async (store) => benchInbox(store, await buildWorld(store), backend, SIZES.inbox.requests, SIZES.inbox.asks));
  if (runs('hr')) await withStore(backend, async (store) => benchHr(store, await buildWorld(store), backend, { ...SIZES.hr, runs: SIZES.runs }));
  if (runs('decision')) results.push(...await benchDecision(backend, DECISION[backend], SIZES.runs));
  if (runs('http')) results.push(...await benchHttpServe(backend, HTTP[backend]));
  if (runs('verify')) await withStore(backend, async (store) => [await benchAuditVerify(store, { events: SIZES.verify[backend] })]);
  if (runs('verify') || runs('checkpoint')) await withStore(backend, async (store) => benchCheckpoint(store, { since: SIZES.checkpoint }));
  // pgbench -S through the PostgreSQL proxy and direct, side by side: the proxy's targets are servers.
  if (runs('pgproxy') && backend === 'postgres') results.push(...await benchPgProxy(smoke ? 1 : 10));
  // ssh through the SSH proxy and straight to sshd, side by side; the recording is stored on the server backend, as in production.
  if (runs('sshproxy') && backend === 'postgres') results.push(...await benchSshProxy(smoke ? { mib: 1, roundTrips: 10, runs: 1 } : { mib: 100, roundTrips: 1_000, runs: 3 }));
  // A worker process against a real target: the server backend only (the embedded database has one process).
  if (runs('removal') && backend === 'postgres') for (const [n, spreadMs] of (removalGrants ? [[removalGrants, 60_000]] as [number, number][] : SIZES.removal)) results.push(...await benchRemovalLag(n, spreadMs));
}
// Whole `tenure` processes on the embedded database and against a server it starts: not per backend.
if (runs('startup') && !smoke) results.push(...await benchStartup(group === 'startup' ? 7 : 5));

console.log(renderTable(results));
if (!smoke) console.log(`\nwritten to ${writeReport(results, fileURLToPath(new URL('./results', import.meta.url)), `${backends.join('+')}${group ? `-${group}` : ''}`)}`);
