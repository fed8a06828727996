/**
 * Tenure behind Debian's PgBouncer in transaction pooling mode (DATABASE_URL), with
 * TENURE_DIRECT_DATABASE_URL for what needs a session of its own: the migration lock and LISTEN.
 * Real `serve`, `worker` and `audit verify` processes; the pooler is started by the test.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { sql } from 'drizzle-orm';
import { createToken } from '../src/operations/create-token.js';
import { revokeGrant } from '../src/operations/revoke-grant.js';
import { openPostgres, rawRows, type Store } from '../src/store/database.js';
import { auditKeyEnv } from './support/audit-key.js';
import { BACKENDS } from './support/backends.js';
import { startPgBouncer, type PgBouncer } from './support/pgbouncer.js';
import { createScratchDatabase, postgresAdminUrl } from './support/postgres-server.js';
import { startTenure, TENURE_BIN, type TenureProcess } from './support/tenure-process.js';
import { buildWorld, type World } from './support/world.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls `probe` every 50 ms until it returns something, for at most `ms`. */
const within = async <T>(ms: number, what: string, probe: () => Promise<T | undefined>): Promise<T> => {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) assert.fail(`${what}: not within ${ms} ms`);
    await sleep(50);
  }
};

describe('Tenure through PgBouncer in transaction pooling mode', { skip: !BACKENDS.includes('postgres'), timeout: 180_000 }, () => {
  let scratch: Awaited<ReturnType<typeof createScratchDatabase>>;
  let bouncer: PgBouncer;
  let store: Store;
  let world: World;
  const started: TenureProcess[] = [];
  let env: NodeJS.ProcessEnv;
  // The checkpoint anchor of this test's processes, not the clone's .tenure.
  const dataDir = mkdtempSync(join(tmpdir(), 'tenure-pgbouncer-data-'));

  before(async () => {
    scratch = await createScratchDatabase();
    const server = new URL(await postgresAdminUrl());
    bouncer = await startPgBouncer({ host: server.hostname, port: Number(server.port || 5432), user: decodeURIComponent(server.username) || 'postgres' });
    // Migrated and filled through the pooler too, the migration lock on the direct connection.
    store = await openPostgres(bouncer.via(scratch.url), { directUrl: scratch.url });
    world = await buildWorld(store, new Date());
    env = { ...auditKeyEnv(), DATABASE_URL: bouncer.via(scratch.url), TENURE_DIRECT_DATABASE_URL: scratch.url, TENURE_DATA_DIR: dataDir, TENURE_ACTOR: '', PORT: '0',
      TENURE_WRITES_PER_MINUTE: '100000', TENURE_WORKER_INTERVAL_MS: '200',
      // Polling slowed to a crawl: a change made by another process can only arrive by LISTEN.
      TENURE_DECISION_POLL_MS: '600000', TENURE_DECISION_STALE_MS: '1200000' };
  });
  after(async () => {
    for (const p of started) await p.stop();
    await store?.close();
    await bouncer?.stop();
    await scratch?.drop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('without the direct URL the pooler refuses Tenure\'s session parameters, so the pooled URL alone is not enough', async () => {
    await assert.rejects(openPostgres(bouncer.via(scratch.url)), /unsupported startup parameter/);
  });

  it('serve and worker migrate, approve a request into a grant, see a revocation by LISTEN on the direct connection, and end a grant in the worker pass', async () => {
    const serve = await startTenure(['serve'], env, /serving (http:\/\/\S+)/);
    started.push(serve);
    const worker = await startTenure(['worker'], env, /worker running/);
    started.push(worker);
    const token = async (handle: string, scopes: string[] = ['read', 'write']) =>
      (await createToken(await world.as(handle), { name: 'pgbouncer', scopes: scopes as ['read'] })).secret;
    const [carl, sam, olivia, checker] = [await token('carl'), await token('sam'), await token('olivia'), await token('ada', ['check'])];
    const call = async (secret: string, path: string, body: unknown) => {
      const res = await fetch(`${serve.url}${path}`, { method: 'POST', body: JSON.stringify(body),
        headers: { authorization: `Bearer ${secret}`, 'content-type': 'application/json' } });
      const json = await res.json() as Record<string, unknown>;
      assert.ok(res.ok, `${path}: ${res.status} ${JSON.stringify(json)}`);
      return json;
    };
    const grantVia = async (entitlement: string, duration: string) => {
      const request = await call(carl, '/v1/requests', { entitlement, justification: 'through the pooler', duration });
      await call(sam, `/v1/requests/${String(request.id)}/approve`, {});
      const approved = await call(olivia, `/v1/requests/${String(request.id)}/approve`, {});
      assert.ok(approved.grantId, JSON.stringify(approved));
      return String(approved.grantId);
    };
    const reasonFor = (entitlement: string) => async () =>
      String((await call(checker, '/v1/check', { identity: 'carl', entitlement })).reason);

    const held = await grantVia('payments/read', '1d');
    await within(5_000, 'the grant approved through serve is allowed', async () => (await reasonFor('payments/read')() === 'grant_active' ? true : undefined));
    // Revoked by another process (this one, through the pooler): only the change feed can tell serve.
    await revokeGrant(await world.as('ivan'), { grant: held, reason: 'ended through the pooler' });
    await within(5_000, 'the revocation reaches /v1/check', async () => (await reasonFor('payments/read')() === 'grant_ended' ? true : undefined));

    const short = await grantVia('payments/approve', '1s');
    const ended = await within(20_000, 'the worker ends the one-second grant', async () => {
      const [row] = await rawRows<{ status: string }>(store.db, sql`SELECT status FROM grants WHERE id = ${short}`);
      return row?.status === 'expired' ? row.status : undefined;
    });
    assert.equal(ended, 'expired');
    await within(5_000, 'the ended grant is denied', async () => (await reasonFor('payments/approve')() === 'grant_ended' ? true : undefined));

    // No session lock is left behind on a pooled server connection, where nothing would ever release it.
    const locks = await rawRows<{ n: number }>(store.db, sql`SELECT count(*)::int AS n FROM pg_locks l JOIN pg_database d ON d.oid = l.database
      WHERE l.locktype = 'advisory' AND d.datname = current_database()`);
    assert.equal(locks[0]!.n, 0);
    assert.ok(serve.alive() && worker.alive(), `${serve.log()}\n${worker.log()}`);
  });

  it('tenure audit verify through the pooler finds the chain intact', () => {
    const result = spawnSync(process.execPath, [TENURE_BIN, '--as', 'audrey', 'audit', 'verify'], { env: { ...process.env, ...env }, encoding: 'utf8', timeout: 120_000 });
    assert.equal(result.status, 0, `${result.stdout}\n${result.stderr}`);
  });
});
