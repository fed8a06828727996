/**
 * A write whose database goes away after it committed and before its Idempotency-Key outcome is
 * stored: the moment a failover can take. The database is cut by a TCP proxy the test controls.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BACKENDS } from './support/backends.js';
import { withServiceBehindProxy } from './support/service-behind-proxy.js';

const FAST = { TENURE_DB_CONNECT_TIMEOUT_MS: '1500', TENURE_DB_STATEMENT_TIMEOUT_MS: '3000', TENURE_DB_QUERY_TIMEOUT_MS: '4000', TENURE_DB_KEEPALIVE_MS: '1000' };

describe('a write that committed while its database went away', { skip: !BACKENDS.includes('postgres') }, () => {
  it('still answers its 201, and a retry with the same Idempotency-Key gets that outcome back instead of running again', async () => {
    let back: Promise<void> | undefined;
    await withServiceBehindProxy(FAST, async ({ proxy, service }) => {
      try {
        // The use case has committed; the answer is being serialised: the database goes, for a second and a half.
        // Once: an error answer is serialised through the same hook.
        service.app.addHook('preSerialization', async (request, _reply, payload) => {
          if (back || request.headers['x-lose-database'] !== 'after-commit') return payload;
          back = Promise.resolve();
          await proxy.refuse();
          back = new Promise((resolve) => { setTimeout(() => { void proxy.restore().then(resolve); }, 1_500); });
          return payload;
        });
        const body = { handle: 'committed-then-lost', displayName: 'Committed, then lost', kind: 'employee', manager: 'sam' };
        const first = await service.call('POST', '/v1/identities', { as: 'ada', body, headers: { 'idempotency-key': 'after-commit-1', 'x-lose-database': 'after-commit' } });
        assert.equal(first.statusCode, 201, first.body);
        await back;
        const retry = await service.call('POST', '/v1/identities', { as: 'ada', body, headers: { 'idempotency-key': 'after-commit-1' } });
        assert.equal(retry.statusCode, 201, retry.body);
        assert.equal(retry.headers['idempotent-replayed'], 'true');
        assert.equal(retry.json<{ id: string }>().id, first.json<{ id: string }>().id);
      } finally {
        // A restore still under way must finish before the proxy is closed.
        await back;
      }
    });
  });

  it('a write whose COMMIT happened but was answered to nobody is refused on retry as outcome_lost, never run twice', async () => {
    await withServiceBehindProxy(FAST, async ({ proxy, service }) => {
      const tokens = async () => (await service.call('GET', '/v1/tokens', { as: 'eve' })).json<{ items: { name: string }[] }>().items
        .filter((t) => t.name === 'lost-answer');
      const headers = { 'idempotency-key': 'lost-answer-1' };
      const body = { name: 'lost-answer' };
      assert.equal((await tokens()).length, 0, 'eve is signed in (her test token is minted) before the cut is armed');
      proxy.cutAfterNextCommit();
      const first = await service.call('POST', '/v1/tokens', { as: 'eve', body, headers });
      assert.equal(first.statusCode, 503, first.body);
      assert.match(first.json<{ detail: string }>().detail, /broke while committing/);
      assert.equal((await tokens()).length, 1, 'the COMMIT did happen');
      const retry = await service.call('POST', '/v1/tokens', { as: 'eve', body, headers });
      assert.equal(retry.statusCode, 409, retry.body);
      assert.equal(retry.json<{ code: string }>().code, 'idempotency.outcome_lost');
      assert.equal((await tokens()).length, 1, 'and the retry did not run the write again');
    });
  });
});
