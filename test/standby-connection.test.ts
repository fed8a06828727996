/**
 * After a failover a proxy may leave a connection on a node that is now a standby: every write on it
 * is refused (25006 read_only_sql_transaction). Reproduced on the real test server by making the
 * database's new sessions read-only, as a standby's are; test/ha/failover.test.ts meets it for real.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import pg from 'pg';
import { openPostgres } from '../src/store/database.js';
import { BACKENDS } from './support/backends.js';
import { createScratchDatabase, postgresAdminUrl } from './support/postgres-server.js';
import { startService } from './support/service.js';

describe('a connection that lands on a standby', { skip: !BACKENDS.includes('postgres') }, () => {
  it('a write on it answers 503 with Retry-After, not 500, and once a primary is reached again the pool has dropped it and the write succeeds', async () => {
    const scratch = await createScratchDatabase();
    const name = new URL(scratch.url).pathname.slice(1);
    const admin = new pg.Client({ connectionString: await postgresAdminUrl() });
    await admin.connect();
    const store = await openPostgres(scratch.url);
    const service = await startService(store);
    try {
      assert.equal((await service.call('GET', '/v1/identities/ada', { as: 'ada' })).statusCode, 200);
      // Every session opened from now on is read-only; the pool's present ones are not: they are ended,
      // and the pool has dropped them once each has heard so.
      await admin.query(`ALTER DATABASE ${name} SET default_transaction_read_only = on`);
      await admin.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1', [name]);
      const pool = (store.db as unknown as { $client: pg.Pool }).$client;
      for (let i = 0; i < 50 && pool.totalCount > 0; i += 1) await new Promise((resolve) => setTimeout(resolve, 20));
      const body = (handle: string) => ({ handle, displayName: 'Written on a standby', kind: 'employee', manager: 'sam' });
      const refused = await service.call('POST', '/v1/identities', { as: 'ada', body: body('on-standby') });
      assert.equal(refused.statusCode, 503, refused.body);
      assert.equal(refused.json<{ code: string }>().code, 'service.unavailable');
      assert.ok(Number(refused.headers['retry-after']) > 0);

      // The primary is back: a connection kept from the standby would still refuse the write.
      await admin.query(`ALTER DATABASE ${name} RESET default_transaction_read_only`);
      const written = await service.call('POST', '/v1/identities', { as: 'ada', body: body('on-primary') });
      assert.equal(written.statusCode, 201, written.body);
    } finally {
      await service.app.close();
      await store.close();
      await admin.end();
      await scratch.drop();
    }
  });
});
