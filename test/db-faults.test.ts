/**
 * A server that survives its database: real `tenure serve` (and `worker`) processes on a scratch
 * PostgreSQL database, whose connections are terminated by an administrator, refused, or silently
 * lost behind a TCP proxy the test controls. Timeouts are shortened through the TENURE_DB_* settings.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { systemClock } from '../src/domain/clock.js';
import type { Context } from '../src/work/context.js';
import { createToken } from '../src/operations/create-token.js';
import { createIdentity } from '../src/operations/create-identity.js';
import { openPostgres } from '../src/store/database.js';
import { BACKENDS } from './support/backends.js';
import { createScratchDatabase, postgresAdminUrl } from './support/postgres-server.js';
import { freePort } from './support/processes.js';
import { startTcpProxy, type TcpProxy } from './support/tcp-proxy.js';
import { withServiceBehindProxy } from './support/service-behind-proxy.js';
import { acceptable, callTenure, startTenure, TENURE_BIN, succeeded, type Kind, type Outcome, type TenureProcess } from './support/tenure-process.js';
import { buildWorld } from './support/world.js';
import { auditKeyEnv } from './support/audit-key.js';

/** Short timeouts, so that a fault is noticed in about a second; 2 to 4 s leaves room on a loaded machine. */
const FAST = {
  ...auditKeyEnv(),
  TENURE_DB_CONNECT_TIMEOUT_MS: '1500',
  TENURE_DB_STATEMENT_TIMEOUT_MS: '3000',
  TENURE_DB_QUERY_TIMEOUT_MS: '4000',
  TENURE_DB_IDLE_IN_TRANSACTION_TIMEOUT_MS: '5000',
  TENURE_DB_KEEPALIVE_MS: '1000',
  TENURE_DB_HEARTBEAT_MS: '500',
  TENURE_WRITES_PER_MINUTE: '1000000',
  TENURE_ACTOR: '',
  PORT: '0',
};
/** The longest one call may take under any fault with FAST: a wait for a connection plus a timed-out query, twice, with slack. */
const CALL_BOUND_MS = 15_000;
const KINDS: Kind[] = ['check', 'read', 'write'];
const SERVING = /serving (http:\/\/\S+)/;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const show = (outcomes: Outcome[]) => JSON.stringify(outcomes.slice(0, 5), null, 1);

/** Calls every kind until all succeed, within `ms`; returns the outcomes seen meanwhile. */
const untilServing = async (url: string, token: string, ms: number): Promise<Outcome[]> => {
  const seen: Outcome[] = [];
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    const round = await Promise.all(KINDS.map((kind) => callTenure(url, token, kind, CALL_BOUND_MS)));
    seen.push(...round);
    if (round.every(succeeded)) return seen;
    await sleep(250);
  }
  assert.fail(`not serving again within ${ms} ms: ${show(seen.slice(-3))}`);
};

interface Setup { adaId: string; dbName: string; url: string; checker: string; drop(): Promise<void> }

/** A scratch database with the test organisation and an administrator's token (read, write, check); the setup pool is closed. */
const setUp = async (): Promise<Setup> => {
  const scratch = await createScratchDatabase();
  const store = await openPostgres(scratch.url);
  const world = await buildWorld(store, new Date());
  const checker = (await createToken(await world.as('ada'), { name: 'faults', scopes: ['read', 'write', 'check'] })).secret;
  const adaId = await world.id('ada');
  await store.close();
  return { adaId, dbName: new URL(scratch.url).pathname.slice(1), url: scratch.url, checker, drop: scratch.drop };
};

describe('a server that survives its database', { skip: !BACKENDS.includes('postgres'), timeout: 240_000 }, () => {
  let admin: pg.Client;
  before(async () => {
    admin = new pg.Client({ connectionString: await postgresAdminUrl(), application_name: 'db-faults-test' });
    admin.on('error', () => undefined);
    await admin.connect();
  });
  after(async () => { await admin.end(); });

  it('terminating every connection of serve and worker, again and again under load, crashes neither: each answer is 2xx or 503 with Retry-After, and both serve normally afterwards', async () => {
    const s = await setUp();
    const started: TenureProcess[] = [];
    try {
      const env = { ...FAST, DATABASE_URL: s.url, TENURE_WORKER_INTERVAL_MS: '200', TENURE_DECISION_POLL_MS: '250', TENURE_DECISION_STALE_MS: '2000' };
      const serve = await startTenure(['serve'], env, SERVING);
      started.push(serve);
      const worker = await startTenure(['worker'], env, /worker running/);
      started.push(worker);
      await untilServing(serve.url, s.checker, 20_000);

      const outcomes: Outcome[] = [];
      let terminated = 0;
      for (let round = 0; round < 5; round += 1) {
        const until = Date.now() + 2_000;
        const callers = Array.from({ length: 6 }, async (_, c) => {
          for (let i = 0; Date.now() < until; i += 1) outcomes.push(await callTenure(serve.url, s.checker, KINDS[(c + i) % 3]!, CALL_BOUND_MS));
        });
        const killer = (async () => {
          while (Date.now() < until) {
            // Every backend on Tenure's database: serve's pool, its LISTEN connection and the worker's pool.
            const killed = await admin.query<{ n: number }>(
              'SELECT count(pg_terminate_backend(pid))::int AS n FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()', [s.dbName]);
            terminated += killed.rows[0]!.n;
            await sleep(100);
          }
        })();
        await Promise.all([...callers, killer]);
        assert.ok(serve.alive(), `serve exited in round ${round}: ${serve.log()}`);
        assert.ok(worker.alive(), `worker exited in round ${round}: ${worker.log()}`);
      }
      assert.ok(terminated > 20, `backends terminated: ${terminated}`);
      assert.ok(outcomes.length > 50, `calls made: ${outcomes.length}`);
      const bad = outcomes.filter((o) => !acceptable(o));
      assert.deepEqual(bad.length, 0, `answers that were neither 2xx nor 503 with Retry-After: ${show(bad)}`);

      await untilServing(serve.url, s.checker, 20_000);
      const normal = [];
      for (let i = 0; i < 30; i += 1) normal.push(await callTenure(serve.url, s.checker, KINDS[i % 3]!, CALL_BOUND_MS));
      assert.deepEqual(normal.filter((o) => !succeeded(o)), [], 'every call succeeds once the terminations stop');
      // The worker's loop carried on: it is connected again and still passing.
      const deadline = Date.now() + 10_000;
      let workerBack = false;
      while (!workerBack && Date.now() < deadline) {
        const rows = await admin.query('SELECT 1 FROM pg_stat_activity WHERE datname = $1 AND application_name = $2', [s.dbName, 'tenure-worker']);
        workerBack = (rows.rowCount ?? 0) > 0;
        if (!workerBack) await sleep(200);
      }
      assert.ok(workerBack && worker.alive(), `the worker is connected again: ${worker.log().slice(-2000)}`);
      // Each process names its connections, so an administrator sees (and can end) exactly Tenure's.
      // The LISTEN connection comes back on its own timer, independently of the pools: wait for it too.
      const expected = ['tenure-serve', 'tenure-serve-listen', 'tenure-worker'];
      let seen: string[] = [];
      while (Date.now() < deadline + 10_000) {
        const names = await admin.query<{ name: string }>('SELECT DISTINCT application_name AS name FROM pg_stat_activity WHERE datname = $1', [s.dbName]);
        seen = names.rows.map((r) => r.name);
        if (expected.every((name) => seen.includes(name))) break;
        await sleep(200);
      }
      for (const name of expected) assert.ok(seen.includes(name), `${name} in ${seen.join(', ')}`);
    } finally {
      for (const p of started) await p.stop();
      await s.drop();
    }
  });

  it('with the database refusing connections, /v1/check and a write answer 503 service.unavailable with Retry-After, never 500, and serving resumes once it accepts again', async () => {
    const s = await setUp();
    const target = new URL(await postgresAdminUrl());
    const proxy = await startTcpProxy({ host: target.hostname, port: Number(target.port || 5432) });
    let serve: TenureProcess | undefined;
    try {
      serve = await startTenure(['serve'], { ...FAST, DATABASE_URL: proxy.via(s.url), TENURE_DECISION_POLL_MS: '250', TENURE_DECISION_STALE_MS: '2000' }, SERVING);
      await untilServing(serve.url, s.checker, 20_000);
      await proxy.refuse();
      const outcomes: Outcome[] = [];
      let last: Outcome[] = [];
      const deadline = Date.now() + 20_000;
      // Within the staleness bound a checker already known may still be answered from memory; after it, never.
      while (Date.now() < deadline) {
        last = await Promise.all((['check', 'write'] as const).map((kind) => callTenure(serve!.url, s.checker, kind, CALL_BOUND_MS)));
        outcomes.push(...last);
        if (last.every((o) => o.status === 503)) break;
        await sleep(200);
      }
      assert.deepEqual(outcomes.filter((o) => !acceptable(o)), [], 'only 2xx or 503 with Retry-After while the database refuses');
      for (const o of last) {
        assert.equal(o.status, 503, `${o.kind}: ${o.detail}`);
        assert.equal(o.code, 'service.unavailable', `${o.kind}: ${o.detail}`);
        assert.ok(Number(o.retryAfter) > 0, `${o.kind} has Retry-After`);
        assert.ok(o.ms < CALL_BOUND_MS, `${o.kind} answered in ${o.ms} ms`);
      }
      await proxy.restore();
      const after = await untilServing(serve.url, s.checker, 20_000);
      assert.deepEqual(after.filter((o) => !acceptable(o)), [], 'only 2xx or 503 with Retry-After while it recovers');
      assert.ok(serve.alive(), serve.log());
    } finally {
      await serve?.stop();
      await proxy.close();
      await s.drop();
    }
  });

  it('a database that silently stops answering gets 503 within the timeouts instead of hanging; when it answers again serve recovers by itself and a new LISTEN connection brings other processes\' changes', async () => {
    const s = await setUp();
    const target = new URL(await postgresAdminUrl());
    const proxy: TcpProxy = await startTcpProxy({ host: target.hostname, port: Number(target.port || 5432) });
    let serve: TenureProcess | undefined;
    const other = await openPostgres(s.url);
    try {
      // Polling and the worker's own refresh are slowed to a crawl: a change from another process can only arrive by LISTEN.
      serve = await startTenure(['serve'], { ...FAST, DATABASE_URL: proxy.via(s.url), TENURE_DECISION_POLL_MS: '600000',
        TENURE_DECISION_STALE_MS: '1200000', TENURE_WORKER_INTERVAL_MS: '600000' }, SERVING);
      await untilServing(serve.url, s.checker, 20_000);
      const arrives = async (handle: string) => {
        const ctx: Context = { store: other, clock: systemClock, actor: { id: s.adaId, channel: 'cli', osUser: 'test' } };
        await createIdentity(ctx, { handle, displayName: 'Joined elsewhere', kind: 'employee', manager: 'sam' });
        const deadline = Date.now() + 5_000;
        let answer: Outcome | undefined;
        while (Date.now() < deadline) {
          answer = await callTenure(serve!.url, s.checker, 'check', CALL_BOUND_MS, handle);
          if (answer.status === 200 && !answer.detail.includes('unknown_identity')) return;
          await sleep(100);
        }
        assert.fail(`${handle}, created by another process, never reached /v1/check: ${answer?.detail}`);
      };
      await arrives('joined-before');

      proxy.blackHole();
      const outcomes: Outcome[] = [];
      let last: Outcome[] = [];
      const deadline = Date.now() + 30_000;
      while (Date.now() < deadline) {
        last = await Promise.all(KINDS.map((kind) => callTenure(serve!.url, s.checker, kind, CALL_BOUND_MS)));
        outcomes.push(...last);
        if (last.every((o) => o.status === 503)) break;
      }
      assert.deepEqual(outcomes.filter((o) => !acceptable(o)), [], `only 2xx or 503 with Retry-After in the black hole, none hung past ${CALL_BOUND_MS} ms`);
      assert.deepEqual(last.map((o) => o.status), [503, 503, 503], `every kind of call ends in 503: ${show(last)}`);

      const acceptedBefore = proxy.accepted();
      proxy.forward();
      const recovering = await untilServing(serve.url, s.checker, 30_000);
      assert.deepEqual(recovering.filter((o) => !acceptable(o)), [], 'only 2xx or 503 with Retry-After while it recovers');
      assert.ok(proxy.accepted() > acceptedBefore, 'serve opened new connections');
      await arrives('joined-after');
      assert.ok(serve.alive(), serve.log());
    } finally {
      await serve?.stop();
      await other.close();
      await proxy.close();
      await s.drop();
    }
  });

  it('a database lost between the Idempotency-Key claim and the use case answers 503 with Retry-After, not 500', async () => {
    await withServiceBehindProxy(FAST, async ({ proxy, service }) => {
      // After the key is claimed (the idempotency pre-handler runs first), the database goes away.
      service.app.addHook('preHandler', async (request) => { if (request.headers['x-lose-database'] === 'now') await proxy.refuse(); });
      const answer = await service.call('POST', '/v1/identities', { as: 'ada', body: { handle: 'lost-midway', displayName: 'Lost midway', kind: 'employee', manager: 'sam' },
        headers: { 'idempotency-key': 'lost-midway-1', 'x-lose-database': 'now' } });
      assert.equal(answer.statusCode, 503, answer.body);
      assert.equal(answer.json<{ code: string }>().code, 'service.unavailable');
      assert.ok(Number(answer.headers['retry-after']) > 0);
    });
  });

  it('the CLI on a database that refuses connections says service.unavailable (exit 1), not internal', async () => {
    const closed = await freePort();
    const result = spawnSync(process.execPath, [TENURE_BIN, '--as', 'ada', 'identity', 'list'], {
      env: { ...process.env, ...FAST, DATABASE_URL: `postgres://postgres@127.0.0.1:${closed}/nowhere` }, encoding: 'utf8', timeout: 60_000,
    });
    assert.equal(result.status, 1, result.stderr);
    assert.match(result.stderr, /error service\.unavailable: the database could not be reached/);
  });
});
