import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import { sql } from 'drizzle-orm';
import { rawRows } from '../src/store/database.js';
import { withService } from './support/service.js';

const fill = (url: string) => url.replace(/:identity\b/, 'carl').replace(/:[a-z]+/g, () => randomUUID());

describe('secrets stay out of logs and the audit log', () => {
  it('a canary token sent through every route, in every place a credential might travel, appears in no log line and no audit event', async () => {
    const lines: string[] = [];
    const stream = new Writable({ write(chunk, _encoding, done) { lines.push(String(chunk)); done(); } });
    await withService(async (s) => {
      const created = await s.call('POST', '/v1/tokens', { as: 'ada', body: { name: 'canary', scopes: ['read', 'write', 'check'] } });
      const canary = created.json().secret as string;
      const forged = `tnr_${'C'.repeat(43)}`;
      for (const route of s.app.routeCatalogue) {
        for (const secret of [canary, forged]) {
          const url = `${fill(route.url)}?token=${secret}&access_token=${secret}`;
          const body = route.method === 'GET' ? undefined : { token: secret, justification: 'canary' };
          await s.app.inject({ method: route.method as 'GET', url, headers: { authorization: `Bearer ${secret}`, 'idempotency-key': randomUUID() },
            ...(body ? { payload: body } : {}) });
          await s.app.inject({ method: route.method as 'GET', url: fill(route.url), headers: { cookie: `tenure_session=${secret}` } });
        }
      }
      assert.ok(lines.length > s.app.routeCatalogue.length, 'requests were logged');
      for (const secret of [canary, forged]) {
        assert.equal(lines.filter((line) => line.includes(secret)).length, 0, 'a log line holds the secret');
        const hits = await rawRows<{ seq: number }>(s.world.store.db, sql`SELECT seq FROM audit_events WHERE canonical LIKE ${`%${secret}%`}`);
        assert.deepEqual(hits, [], 'an audit event holds the secret');
        const stored = await rawRows<{ n: number }>(s.world.store.db, sql`SELECT count(*)::int AS n FROM api_tokens WHERE secret_hash = ${secret}`);
        assert.equal(stored[0]!.n, 0);
      }
    }, { logger: { level: 'trace', stream } });
  });
});
