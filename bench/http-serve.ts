/**
 * `POST /v1/check` against a whole `tenure serve` process, as it runs in production: its worker loop,
 * index polling and audit checkpoints running inside it, on a database holding the decision bench's
 * data (1,000,000 grants on a server, 100,000 in PGlite). The server is pinned to core 0 and every
 * load generator to core 1, so the figures are the service's, not the two fighting over a core.
 * Closed loop with Debian's `wrk` (1 connection, and 8), and open loop at fixed rates from a Node
 * generator; side by side, in the same run, an empty Fastify route and a bare `node:http` handler,
 * each in its own process on core 0. `serve`'s resident memory is read with the index loaded and on
 * the bare world before the data went in: the difference is what the index and its data cost.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { appendFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { sql } from 'drizzle-orm';
import { createToken } from '../src/operations/create-token.js';
import { loadConnectionSettings } from '../src/store/connection-settings.js';
import { openEmbedded, openPostgres, type Store } from '../src/store/database.js';
import { auditKeyEnv } from '../test/support/audit-key.js';
import { createScratchDatabase } from '../test/support/postgres-server.js';
import { buildWorld } from '../test/support/world.js';
import { generateDecisionData } from './decision-data.js';
import { FIXED_RATE_GENERATOR, WRK_SCRIPT, type Latencies } from './http-load.js';
import type { BenchResult } from './report.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const TENURE = join(ROOT, 'bin', 'tenure.mjs');
const PIN = cpus().length > 1 && spawnSync('taskset', ['-V']).status === 0;
const onCore = (core: number, command: string[]): string[] => (PIN ? ['taskset', '-c', String(core), ...command] : command);

export interface HttpServeSizes { identities: number; grantsPerIdentity: number; seconds: number; rates: number[] }

/** A child on core 0, resolved with its URL once `ready` matches what it writes. */
const startServer = (command: string[], env: NodeJS.ProcessEnv, ready: RegExp): Promise<{ url: string; child: ChildProcess; stop(): Promise<void> }> =>
  new Promise((resolve, reject) => {
    const [exe, ...args] = onCore(0, command);
    const child = spawn(exe!, args, { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let log = '';
    const seen = (chunk: Buffer) => {
      // BENCH_SERVE_LOG=<file> keeps everything the servers write (with --trace-gc in BENCH_SERVE_FLAGS, the collections).
      if (process.env.BENCH_SERVE_LOG) appendFileSync(process.env.BENCH_SERVE_LOG, chunk);
      log = (log + String(chunk)).slice(-20_000);
      const match = ready.exec(log);
      // wrk resolves localhost to ::1 first, where the server may not listen.
      if (match) resolve({ url: match[1]!.replace('//localhost:', '//127.0.0.1:'), child, stop: () => new Promise((done) => { child.once('close', () => done()); child.kill('SIGTERM'); }) });
    };
    child.stdout!.on('data', seen);
    child.stderr!.on('data', seen);
    child.once('exit', (code) => reject(new Error(`${command.join(' ')} exited with ${code}: ${log}`)));
  });

const rssMiB = (pid: number): number => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) / 1024;

const FASTIFY_EMPTY = `import Fastify from 'fastify'; const app = Fastify(); app.post('/v1/check', async () => ({ decision: 'allow' }));
await app.listen({ port: 0, host: '127.0.0.1' }); console.log('listening http://127.0.0.1:' + app.server.address().port);`;
const BARE_HTTP = `import http from 'node:http'; const s = http.createServer((req, res) => { req.resume(); req.on('end', () => {
res.writeHead(200, { 'content-type': 'application/json' }); res.end('{"decision":"allow"}'); }); });
s.listen(0, '127.0.0.1', () => console.log('listening http://127.0.0.1:' + s.address().port));`;

/** Closed loop: `wrk` on core 1 with `connections`, for `seconds`; latencies from its own histogram. */
const closedLoop = (dir: string, url: string, connections: number, seconds: number, warmUp = false): Latencies => {
  const r = spawnSync(onCore(1, ['wrk'])[0]!, [...onCore(1, ['wrk']).slice(1), '-t1', `-c${connections}`, `-d${seconds}s`, '-s', join(dir, 'check.lua'), `${url}/v1/check`],
    { cwd: dir, encoding: 'utf8', env: { ...process.env, BODIES: join(dir, 'bodies.txt'), TOKEN: readFileSync(join(dir, 'token'), 'utf8') } });
  const line = /RESULT (\S+) (\S+) (\S+) (\S+) (\S+) (\S+)/.exec(`${r.stdout}${r.stderr}`);
  if (r.status !== 0 || !line) throw new Error(`wrk failed: ${r.stderr}${r.stdout}`);
  // The first requests compile the handlers (and on PGlite, the first queries): a warm-up answers nothing.
  if (warmUp) return { count: 0, seconds: 0, p50: 0, p99: 0, p999: 0 };
  const [requests, errors, p50, p99, p999, micros] = line.slice(1).map(Number) as [number, number, number, number, number, number];
  if (errors > 0 || requests === 0) throw new Error(`wrk: ${errors} of ${requests} requests failed: ${r.stdout}`);
  return { count: requests, seconds: micros / 1e6, p50: p50 / 1000, p99: p99 / 1000, p999: p999 / 1000 };
};

/** Open loop at `rate` per second from a Node generator on core 1 (after an unmeasured second). */
const openLoop = (dir: string, url: string, rate: number, seconds: number): Latencies => {
  const run = (s: number) => {
    const r = spawnSync(onCore(1, [process.execPath])[0]!, [...onCore(1, [process.execPath]).slice(1), '-e', FIXED_RATE_GENERATOR],
      { encoding: 'utf8', env: { ...process.env, URL: `${url}/v1/check`, TOKEN: readFileSync(join(dir, 'token'), 'utf8'), BODIES: join(dir, 'bodies.txt'), RATE: String(rate), SECONDS: String(s) } });
    if (r.status !== 0) throw new Error(`the generator failed: ${r.stderr}`);
    return JSON.parse(r.stdout) as Latencies & { failed: number };
  };
  run(1);
  const result = run(seconds);
  if (result.failed > 0) throw new Error(`${result.failed} of ${result.count} requests failed at ${rate}/s`);
  return result;
};

const row = (name: string, backend: string, t: Latencies, target?: string): BenchResult => ({
  name: `${name} (p50 ${t.p50.toFixed(2)} ms, p99 ${t.p99.toFixed(2)} ms, p99.9 ${t.p999.toFixed(2)} ms)`, backend, n: t.count,
  medianMs: t.p50, perSecond: t.count / t.seconds, ...(target ? { target } : {}),
});

/** Until `serve` answers a check (its first worker pass and index load come first, and PGlite has one connection). */
const untilAnswering = async (dir: string, url: string): Promise<void> => {
  const body = readFileSync(join(dir, 'bodies.txt'), 'utf8').split('\n')[0]!;
  const headers = { 'content-type': 'application/json', authorization: `Bearer ${readFileSync(join(dir, 'token'), 'utf8')}` };
  for (const started = performance.now(); performance.now() - started < 120_000;) {
    const answered = await fetch(`${url}/v1/check`, { method: 'POST', headers, body }).then((r) => r.ok, () => false);
    if (answered) return;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(`${url} answered no check within two minutes`);
};

/** The database `serve` will use: how to open it here, and how to point `serve` at it. */
const targetOf = async (backend: 'embedded' | 'postgres', dir: string) => {
  if (backend === 'embedded') {
    const dataDir = join(dir, 'data');
    return { open: () => openEmbedded(dataDir), env: { TENURE_DATA_DIR: dataDir, DATABASE_URL: '' }, drop: async () => undefined };
  }
  const scratch = await createScratchDatabase();
  // Seeding writes a million grants in one statement: longer than serve's statement timeout allows.
  const connection = loadConnectionSettings({ TENURE_DB_STATEMENT_TIMEOUT_MS: '600000' });
  return { open: () => openPostgres(scratch.url, { max: 4, connection }), env: { DATABASE_URL: scratch.url }, drop: () => scratch.drop() };
};

export const benchHttpServe = async (backend: 'embedded' | 'postgres', sizes: HttpServeSizes): Promise<BenchResult[]> => {
  const dir = mkdtempSync(join(tmpdir(), 'tenure-bench-http-'));
  const target = await targetOf(backend, dir);
  let store: Store | undefined = await target.open();
  const results: BenchResult[] = [];
  // Checkpoints signed every few seconds, as a production serve does.
  const env = { ...target.env, ...auditKeyEnv(), TENURE_SERVER: '', TENURE_ACTOR: '' };
  // Node flags for serve alone, to look inside a run: BENCH_SERVE_FLAGS='--cpu-prof --cpu-prof-dir=/tmp/p'
  // (NODE_OPTIONS refuses --cpu-prof, and would reach the load generators too).
  const flags = process.env.BENCH_SERVE_FLAGS?.split(/\s+/).filter(Boolean) ?? [];
  const serve = () => startServer([process.execPath, ...flags, TENURE, 'serve', '--port', '0'], env,
    /tenure serving (http:\/\/\S+) /);
  try {
    const w = await buildWorld(store);
    const people = { olivia: await w.id('olivia'), sam: await w.id('sam') };
    writeFileSync(join(dir, 'token'), (await createToken(await w.as('ada'), { name: 'bench-http', scopes: ['check'] })).secret);
    await store.close(); store = undefined;
    const bare = await serve();
    const bareRss = rssMiB(bare.child.pid!);
    await bare.stop();
    store = await target.open();
    const data = await generateDecisionData(store, people, sizes, 5_000);
    // The grants were seeded as provisioned; the outbox trigger still queued a job for each, which a
    // real installation's worker would have done as they came. Left, serve's worker spends the
    // benchmark opening a million manual tasks.
    await store.db.execute(sql`DELETE FROM provisioning_jobs`);
    writeFileSync(join(dir, 'bodies.txt'), `${data.questions.map((q) => JSON.stringify(q)).join('\n')}\n`);
    writeFileSync(join(dir, 'check.lua'), WRK_SCRIPT);
    await store.close(); store = undefined;
    const service = await serve();
    try {
      results.push({ name: `tenure serve's resident memory with ${data.grants.toLocaleString('en-US')} grants indexed: ${Math.round(rssMiB(service.child.pid!))} MiB `
        + `(${Math.round(bareRss)} MiB on the bare world)`, backend, n: data.grants, medianMs: Number.NaN, perSecond: Number.NaN, target: 'index ≤ 300 MiB' });
      await untilAnswering(dir, service.url);
      closedLoop(dir, service.url, 1, 2, true);
      for (const connections of [1, 8]) results.push(row(`POST /v1/check, closed loop (wrk), ${connections} connection${connections > 1 ? 's' : ''}`, backend, closedLoop(dir, service.url, connections, sizes.seconds)));
      for (const rate of sizes.rates) results.push(row(`POST /v1/check at ${rate.toLocaleString('en-US')}/s`, backend, openLoop(dir, service.url, rate, sizes.seconds), 'p99 < 1 ms at 5,000/s'));
    } finally {
      await service.stop();
    }
    for (const [name, code] of [['floor: empty Fastify route', FASTIFY_EMPTY], ['floor: bare node:http handler', BARE_HTTP]] as const) {
      const floor = await startServer([process.execPath, '--input-type=module', '-e', code], {}, /listening (http:\/\/\S+)/);
      try {
        results.push(row(`${name}, closed loop (wrk), 1 connection`, backend, closedLoop(dir, floor.url, 1, sizes.seconds)));
        // At every rate serve was asked for: the machine's own tail at that rate, to read serve's against.
        for (const rate of sizes.rates) results.push(row(`${name} at ${rate.toLocaleString('en-US')}/s`, backend, openLoop(dir, floor.url, rate, sizes.seconds)));
      } finally {
        await floor.stop();
      }
    }
  } finally {
    await store?.close();
    await target.drop();
    rmSync(dir, { recursive: true, force: true });
  }
  return results;
};
