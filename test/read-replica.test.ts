/**
 * TENURE_READ_DATABASE_URL against a real streaming replica: a private primary and a hot standby
 * started here (test/support/streaming-replica.ts), real `serve` processes on both. Replay is paused
 * on the standby to make its lag visible: what may lag (reports, audit search, evidence packs, the
 * decision index's first load) shows it, and what must not (writes, authorisation, the decision
 * point's answers) does not.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { DecisionService } from '../src/decision/service.js';
import { toTenureError } from '../src/http/problem.js';
import { createToken } from '../src/operations/create-token.js';
import { revokeGrant } from '../src/operations/revoke-grant.js';
import { openPostgres, type Store } from '../src/store/database.js';
import { auditKeyEnv } from './support/audit-key.js';
import { BACKENDS } from './support/backends.js';
import { grantThrough } from './support/flows.js';
import { freePort } from './support/processes.js';
import { pgBinDir, startReplicaPair, type ReplicaPair } from './support/streaming-replica.js';
import { startTenure, TENURE_BIN, type TenureProcess } from './support/tenure-process.js';
import { buildWorld, type World } from './support/world.js';

type Json = Record<string, unknown>;

describe('a read replica (TENURE_READ_DATABASE_URL)', { skip: !BACKENDS.includes('postgres') || !pgBinDir(), timeout: 120_000 }, () => {
  let pair: ReplicaPair;
  let store: Store;
  let world: World;
  let env: NodeJS.ProcessEnv;
  let serve: TenureProcess;
  const started: TenureProcess[] = [];
  const tokens: Record<string, string> = {};
  const dataDir = mkdtempSync(join(tmpdir(), 'tenure-replica-data-'));

  const call = async (via: TenureProcess, who: string, method: string, path: string, body?: unknown) => {
    const res = await fetch(`${via.url}${path}`, { method, ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      headers: { authorization: `Bearer ${tokens[who]!}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) } });
    return { status: res.status, type: res.headers.get('content-type'), retryAfter: res.headers.get('retry-after'), json: await res.json() as Json };
  };
  const ok = async (via: TenureProcess, who: string, method: string, path: string, body?: unknown) => {
    const res = await call(via, who, method, path, body);
    assert.ok(res.status < 300, `${method} ${path}: ${res.status} ${JSON.stringify(res.json)}`);
    return res.json;
  };
  const reasonFor = async (via: TenureProcess, entitlement: string) =>
    String((await ok(via, 'checker', 'POST', '/v1/check', { identity: 'carl', entitlement })).reason);
  const revokedInSearch = async (via: TenureProcess, grant: string) =>
    ((await ok(via, 'audrey', 'GET', '/v1/audit/events?action=grant.revoked')).items as { subject: { id: string } }[]).some((e) => e.subject.id === grant);
  const statusInEvidence = async (via: TenureProcess, grant: string) =>
    ((await ok(via, 'audrey', 'GET', '/v1/evidence/identity/carl')).grants as { id: string; status: string }[]).find((g) => g.id === grant)?.status;
  // crm lies outside Carl's engagement (payments only), so security approves it too.
  const grant = (entitlement: string) => grantThrough(world, 'carl', { entitlement, justification: 'replica test', duration: '7d' },
    entitlement.startsWith('crm/') ? ['sam', 'olivia', 'selma'] : ['sam', 'olivia']);

  before(async () => {
    pair = await startReplicaPair();
    const admin = new pg.Client({ connectionString: pair.primary('postgres') });
    await admin.connect();
    await admin.query('CREATE DATABASE tenure');
    await admin.end();
    // Opened with the replica too: the start waits for the standby to replay the migrations.
    store = await openPostgres(pair.primary('tenure'), { readUrl: pair.replica('tenure') });
    world = await buildWorld(store, new Date());
    for (const [who, handle, scopes] of [['ivan', 'ivan', ['read', 'write']], ['audrey', 'audrey', ['read']], ['checker', 'ada', ['check']]] as const) {
      tokens[who] = (await createToken(await world.as(handle), { name: 'replica', scopes: [...scopes] })).secret;
    }
    env = { ...auditKeyEnv(), DATABASE_URL: pair.primary('tenure'), TENURE_READ_DATABASE_URL: pair.replica('tenure'), TENURE_DATA_DIR: dataDir,
      TENURE_ACTOR: '', PORT: '0', TENURE_WRITES_PER_MINUTE: '100000',
      // Polling slowed to a crawl: what the index knows comes from its load, its catch-up and LISTEN.
      TENURE_DECISION_POLL_MS: '600000', TENURE_DECISION_STALE_MS: '1200000' };
    serve = await startTenure(['serve'], env, /serving (http:\/\/\S+)/);
    started.push(serve);
  });
  after(async () => {
    for (const p of started) await p.stop();
    await store?.close();
    await pair?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('reports and audit search answer from the replica and lag with it, while a write sees the primary', async () => {
    const held = await grant('payments/read');
    await pair.caughtUp();
    assert.equal(await statusInEvidence(serve, held), 'active');
    const reads = await pair.onReplica("SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = 'tenure-serve-read'");
    assert.ok(reads.rows[0].n > 0, 'serve has connections to the replica');
    await pair.pauseReplay();
    try {
      await ok(serve, 'ivan', 'POST', `/v1/grants/${held}/revoke`, { reason: 'replica test' });
      // The replica has not replayed the revocation: search and the evidence pack still show the grant live.
      assert.equal(await revokedInSearch(serve, held), false);
      assert.equal(await statusInEvidence(serve, held), 'active');
      // A decision that writes reads the primary: the grant is already ended there.
      const again = await call(serve, 'ivan', 'POST', `/v1/grants/${held}/revoke`, { reason: 'twice' });
      assert.equal(again.status, 409, JSON.stringify(again.json));
      assert.equal(again.json.code, 'grant.already_ended');
      // So does the decision point, kept current from the primary's change feed.
      assert.equal(await reasonFor(serve, 'payments/read'), 'grant_ended');
    } finally {
      await pair.resumeReplay();
    }
    await pair.caughtUp();
    assert.equal(await revokedInSearch(serve, held), true);
    assert.equal(await statusInEvidence(serve, held), 'revoked');
  });

  it('a decision index loaded while the replica lags denies a grant revoked on the primary since, and allows one granted since', async () => {
    const revoked = await grant('payments/approve');
    await pair.caughtUp();
    await pair.pauseReplay();
    const errors: Error[] = [];
    try {
      await revokeGrant(await world.as('ivan'), { grant: revoked, reason: 'revoked while the replica lags' });
      await grant('crm/read');
      assert.equal(await revokedInSearch(serve, revoked), false, 'the replica lags');
      // Without LISTEN or polling: only the catch-up from the primary at start can tell it of either change.
      const decisions = await DecisionService.start({ store, clock: world.clock, poll: false, onError: (e) => errors.push(e) });
      try {
        assert.equal(decisions.check({ identity: 'carl', entitlement: 'payments/approve' }).reason, 'grant_ended');
        assert.equal(decisions.check({ identity: 'carl', entitlement: 'crm/read' }).reason, 'grant_active');
        assert.equal(decisions.ready(), true);
      } finally {
        await decisions.stop();
      }
    } finally {
      await pair.resumeReplay();
    }
    // Loaded from the replica, not from the primary after failing to.
    assert.deepEqual(errors.map((e) => e.message), []);
  });

  it('a TENURE_READ_DATABASE_URL that does not answer, or names another database, stops serve naming the variable, and a CLI command does not use it', async () => {
    // All at once: each is a whole process start.
    const start = (url: string, args = ['serve']) => new Promise<{ status: number | null; stderr: string }>((resolve) => {
      const child = spawn(process.execPath, [TENURE_BIN, ...args], { env: { ...process.env, ...env, TENURE_READ_DATABASE_URL: url }, stdio: ['ignore', 'ignore', 'pipe'] });
      let stderr = '';
      child.stderr.on('data', (chunk: Buffer) => { stderr += String(chunk); });
      const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
      child.on('close', (status) => { clearTimeout(timer); resolve({ status, stderr }); });
    });
    const nowhere = `postgres://postgres@127.0.0.1:${await freePort()}/tenure`;
    const [closed, cli] = await Promise.all([start(nowhere), start(nowhere, ['--as', 'audrey', 'audit', 'search', '--limit', '1'])]);
    assert.equal(cli.status, 0, cli.stderr);
    assert.notEqual(closed.status, 0);
    assert.match(closed.stderr, /TENURE_READ_DATABASE_URL \(postgres:\/\/postgres@127\.0\.0\.1:\d+\/tenure\): .*ECONNREFUSED/);
    // The same check serve's start makes, in process: the replica's server, but another database on it.
    await assert.rejects(openPostgres(pair.primary('tenure'), { readUrl: pair.replica('postgres') }),
      /TENURE_READ_DATABASE_URL .*: it is database 'postgres' .* not a replica of DATABASE_URL's/);
  });

  it('with the replica gone, reads that may lag answer a problem+json 503, serve goes on deciding and writing on the primary, and a worker starts', async () => {
    await pair.stopReplica();
    for (const path of ['/v1/audit/events', '/v1/stats/revocation-lag', '/v1/systems', '/v1/evidence/identity/carl']) {
      const res = await call(serve, 'ivan', 'GET', path);
      assert.equal(res.status, 503, `${path}: ${JSON.stringify(res.json)}`);
      assert.match(res.type ?? '', /^application\/problem\+json/);
      assert.equal(res.json.code, 'service.unavailable');
      assert.equal(res.retryAfter, '5');
    }
    assert.equal(await reasonFor(serve, 'crm/read'), 'grant_active');
    await ok(serve, 'ivan', 'POST', '/v1/identities', { handle: 'after-replica', displayName: 'Written without the replica', kind: 'employee', manager: 'sam' });
    assert.equal((await fetch(`${serve.url}/readyz`)).status, 200);
    assert.ok(serve.alive(), serve.log());
    // The worker reads nothing that may lag: it starts without the replica.
    const worker = await startTenure(['worker'], env, /worker running/);
    started.push(worker);
    assert.ok(worker.alive(), worker.log());
  });
});

it('a report the replica cancels for a recovery conflict answers 503 service.unavailable, not a 500', () => {
  // What PostgreSQL sends when replay must remove rows a standby query still sees (max_standby_streaming_delay passed).
  const conflict = Object.assign(new Error('canceling statement due to conflict with recovery'), { code: '40001' });
  assert.equal(toTenureError(new Error('Failed query', { cause: conflict })).code, 'service.unavailable');
});
