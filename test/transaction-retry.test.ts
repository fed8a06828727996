import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { sql } from 'drizzle-orm';
import { drizzle } from 'drizzle-orm/node-postgres';
import pg from 'pg';
import { ManualClock } from '../src/domain/clock.js';
import { TenureError } from '../src/domain/errors.js';
import { inTransaction, type Context } from '../src/work/context.js';
import { openPostgres, rawRows, type Db, type Store } from '../src/store/database.js';
import { isConnectionLoss, isRetryableConflict } from '../src/store/transient-errors.js';
import { createScratchDatabase } from './support/postgres-server.js';

const wrapped = (cause: object) => Object.assign(new Error('Failed query: select 1'), { cause });

describe('which database errors are transient', () => {
  it('a deadlock or serialization failure, bare or wrapped by drizzle, is a retryable conflict; a constraint violation is not', () => {
    assert.ok(isRetryableConflict({ code: '40P01' }));
    assert.ok(isRetryableConflict(wrapped({ code: '40001' })));
    assert.ok(!isRetryableConflict(wrapped({ code: '23505' })));
    assert.ok(!isRetryableConflict(new TenureError('request.sod_conflict', 'no')));
  });

  it('a terminated backend, a reset socket or a client that broke is a connection loss; a conflict or a bad query is not', () => {
    for (const code of ['57P01', '57P02', '57P03', '08000', '08003', '08006', 'ECONNRESET', 'ECONNREFUSED']) assert.ok(isConnectionLoss(wrapped({ code })), code);
    assert.ok(isConnectionLoss(new Error('Connection terminated unexpectedly')));
    assert.ok(isConnectionLoss(wrapped(new Error('Client has encountered a connection error and is not queryable'))));
    assert.ok(!isConnectionLoss(wrapped({ code: '40P01' })));
    assert.ok(!isConnectionLoss(wrapped({ code: '42P01', message: 'relation does not exist' })));
  });
});

describe('inTransaction on the PostgreSQL server', { skip: process.env.TENURE_TEST_BACKENDS === 'embedded' }, () => {
  let pool: pg.Pool;
  let admin: pg.Pool;
  let drop: () => Promise<void>;
  let ctx: Context;
  before(async () => {
    const scratch = await createScratchDatabase();
    drop = scratch.drop;
    await (await openPostgres(scratch.url)).close();
    // A pool of our own so that a backend killed under a checked-out client is observed, not fatal to the test process.
    pool = new pg.Pool({ connectionString: scratch.url, max: 6 });
    pool.on('error', () => undefined);
    pool.on('connect', (client) => { client.on('error', () => undefined); });
    admin = new pg.Pool({ connectionString: scratch.url, max: 2 });
    const store: Store = { db: drizzle(pool) as unknown as Db, backend: 'postgres', location: 'scratch', close: async () => undefined };
    ctx = { store, clock: new ManualClock('2030-01-01T09:00:00Z'), actor: { id: undefined, channel: 'system' } };
    await admin.query('CREATE TABLE retry_probe (id int PRIMARY KEY, n int NOT NULL)');
    await admin.query('INSERT INTO retry_probe VALUES (1, 0), (2, 0)');
  });
  after(async () => { await pool.end(); await admin.end(); await drop(); });

  const headSeq = async () => Number((await admin.query('SELECT seq FROM audit_head WHERE id = 1')).rows[0].seq);

  it('two units of work that deadlock both commit, the loser re-run whole, and only the committed attempts leave audit events', async () => {
    for (let round = 0; round < 5; round += 1) {
      const seqBefore = await headSeq();
      let attempts = 0;
      let bothHoldOne: () => void;
      const barrier = new Promise<void>((resolve) => { let n = 0; bothHoldOne = () => { n += 1; if (n === 2) resolve(); }; });
      const crossing = (first: number, second: number) => inTransaction(ctx, async (work) => {
        attempts += 1;
        await work.tx.execute(sql`UPDATE retry_probe SET n = n + 1 WHERE id = ${first}`);
        if (attempts <= 2) { bothHoldOne(); await barrier; }
        await work.tx.execute(sql`UPDATE retry_probe SET n = n + 1 WHERE id = ${second}`);
        work.record({ action: 'identity.status_changed', subject: { type: 'identity', id: `probe-${first}` }, reason: 'retry probe' });
        return first;
      });
      const results = await Promise.allSettled([crossing(1, 2), crossing(2, 1)]);
      assert.deepEqual(results.map((r) => r.status), ['fulfilled', 'fulfilled'], `round ${round}: ${JSON.stringify(results.map((r) => r.status === 'rejected' ? String(r.reason) : 'ok'))}`);
      assert.ok(attempts >= 3, `round ${round}: the deadlock victim ran again (${attempts} attempts)`);
      assert.equal(await headSeq(), seqBefore + 2, `round ${round}: one audit event per committed unit of work`);
    }
    const rows = await rawRows<{ n: number }>(ctx.store.db, sql`SELECT n FROM retry_probe ORDER BY id`);
    assert.deepEqual(rows.map((r) => r.n), [10, 10], 'each committed unit of work counted once on each row');
  });

  const killOwnBackend = async (work: { tx: { execute: (q: ReturnType<typeof sql>) => Promise<unknown> } }) => {
    const [{ pid }] = (await work.tx.execute(sql`SELECT pg_backend_pid() AS pid`) as unknown as { rows: { pid: number }[] }).rows as [{ pid: number }];
    await admin.query('SELECT pg_terminate_backend($1)', [pid]);
    for (let i = 0; i < 100 && (await admin.query('SELECT 1 FROM pg_stat_activity WHERE pid = $1', [pid])).rowCount; i += 1) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  };

  it('a connection lost before the function finished is retried once, in a new transaction, and commits', async () => {
    let attempts = 0;
    const result = await inTransaction(ctx, async (work) => {
      attempts += 1;
      if (attempts === 1) await killOwnBackend(work);
      await work.tx.execute(sql`UPDATE retry_probe SET n = n + 100 WHERE id = 1`);
      return 'done';
    });
    assert.equal(result, 'done');
    assert.equal(attempts, 2);
  });

  it('a connection lost after the function finished (COMMIT sent or about to be: outcome unknown) is never retried and answers service.unavailable', async () => {
    let attempts = 0;
    await assert.rejects(inTransaction(ctx, async (work) => {
      attempts += 1;
      await killOwnBackend(work);
      return 'done';
    }), (error) => error instanceof TenureError && error.code === 'service.unavailable'
      && (error.details as { reason: string }).reason === 'commit_outcome_unknown');
    assert.equal(attempts, 1, 'the function ran once');
  });
});
