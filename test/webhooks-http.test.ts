import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { loadHttpConfig } from '../src/config.js';
import { buildApp } from '../src/http/app.js';
import { ROUTES } from '../src/http/routes/index.js';
import { webhookRoutes } from '../src/http/routes/webhooks.js';
import { createToken } from '../src/operations/create-token.js';
import type { Store } from '../src/store/database.js';
import { keyRing, webhookKey } from '../src/webhooks/crypto.js';
import { runWebhookTick, verifySignature } from '../src/webhooks/index.js';
import { BACKENDS, freshStore } from './support/backends.js';
import { grantThrough } from './support/flows.js';
import { startReceiver, type Receiver } from './support/webhook-receiver.js';
import { buildWorld, type World } from './support/world.js';

/** The HTTP layer is the same on both backends; one is enough here. */
describe('webhooks over the HTTP API', () => {
  let store: Store;
  let w: World;
  let app: FastifyInstance;
  let rx: Receiver;
  const key = keyRing([webhookKey(randomBytes(32), 'test')]);
  const tokens = new Map<string, string>();

  before(async () => {
    store = await freshStore(BACKENDS[0] ?? 'embedded');
    w = await buildWorld(store);
    const deps = { store, clock: w.clock, http: loadHttpConfig({}), webhookKey: () => key };
    app = await buildApp(deps);
    if (!ROUTES.includes(webhookRoutes)) await webhookRoutes(app, deps);
    for (const handle of ['ada', 'carl', 'ivan', 'selma']) {
      tokens.set(handle, (await createToken(await w.as(handle), { name: `test-${handle}`, scopes: ['read', 'write'] })).secret);
    }
    rx = await startReceiver();
  });
  after(async () => { await rx.close(); await app.close(); await store.close(); });

  const call = (method: 'GET' | 'POST' | 'DELETE', url: string, as: string, body?: unknown, headers: Record<string, string> = {}) =>
    app.inject({ method, url, headers: { authorization: `Bearer ${tokens.get(as)!}`, ...headers }, ...(body === undefined ? {} : { payload: body as object }) });

  it('an administrator subscribes, sees the delivery log and deletes the subscription; the secret appears once', async () => {
    const created = await call('POST', '/v1/webhooks', 'ada', { url: rx.url, events: ['grant.activated'] });
    assert.equal(created.statusCode, 201, created.body);
    assert.equal(created.headers['cache-control'], 'no-store');
    const hook = created.json<{ id: string; secret: string }>();
    assert.match(hook.secret, /^whsec_/);
    const listed = await call('GET', '/v1/webhooks', 'ada');
    assert.equal(listed.statusCode, 200);
    assert.ok(!listed.body.includes(hook.secret.slice(6)));
    assert.deepEqual(listed.json<{ items: { id: string }[] }>().items.map((i) => i.id), [hook.id]);

    await grantThrough(w, 'carl', { entitlement: 'payments/read', justification: 'report', duration: '1d' }, ['sam', 'olivia']);
    assert.equal((await runWebhookTick(w.worker, { key })).delivered, 1);
    assert.ok(verifySignature(hook.secret, rx.hits[0]!.signature, rx.hits[0]!.body, { now: w.clock.now() }));
    const log = await call('GET', `/v1/webhooks/deliveries?subscription=${hook.id}&limit=10`, 'ada');
    assert.equal(log.statusCode, 200, log.body);
    const [delivery] = log.json<{ items: { status: string; eventType: string; log: { statusCode: number }[] }[] }>().items;
    assert.deepEqual([delivery!.status, delivery!.eventType, delivery!.log.map((a) => a.statusCode)], ['delivered', 'grant.activated', [200]]);

    const deleted = await call('DELETE', `/v1/webhooks/${hook.id}`, 'ada');
    assert.equal(deleted.statusCode, 200, deleted.body);
    assert.deepEqual((await call('GET', '/v1/webhooks', 'ada')).json<{ items: unknown[] }>().items, []);
    assert.equal((await call('GET', '/v1/webhooks?includeDeleted=true', 'ada')).json<{ items: unknown[] }>().items.length, 1);
  });

  it('refusals come back as problems with their codes', async () => {
    const insecure = await call('POST', '/v1/webhooks', 'ada', { url: 'http://hooks.example.com/x', events: ['grant.revoked'] });
    assert.equal(insecure.statusCode, 400);
    assert.deepEqual([insecure.json<{ code: string }>().code, insecure.json<{ field: string }>().field], ['input.invalid', 'url']);
    const forbidden = await call('POST', '/v1/webhooks', 'carl', { url: rx.url, events: ['grant.revoked'] });
    assert.equal(forbidden.statusCode, 403);
    assert.equal(forbidden.json<{ code: string }>().code, 'actor.forbidden');
    const missing = await call('DELETE', `/v1/webhooks/${w.engagementId}`, 'ada');
    assert.equal(missing.statusCode, 404);
    assert.equal(missing.json<{ code: string }>().code, 'webhook.not_found');
  });

  it('rekey runs on the server, where the keys are, for administrators and security only', async () => {
    await call('POST', '/v1/webhooks', 'ada', { url: rx.url, events: ['grant.revoked'] });
    const check = await call('POST', '/v1/webhooks/rekey', 'selma', { check: true });
    assert.equal(check.statusCode, 200, check.body);
    const report = check.json<{ check: boolean; currentKey: string; keys: string[]; rekeyed: number; alreadyCurrent: number; failed: unknown[] }>();
    assert.deepEqual([report.check, report.currentKey, report.keys, report.rekeyed, report.failed], [true, key.current.kid, [key.current.kid], 0, []]);
    assert.ok(report.alreadyCurrent >= 1);
    for (const who of ['ivan', 'carl']) {
      const refused = await call('POST', '/v1/webhooks/rekey', who, {});
      assert.equal(refused.statusCode, 403, `${who}: ${refused.body}`);
      assert.match(String(refused.headers['content-type']), /application\/problem\+json/);
      assert.equal(refused.json<{ code: string }>().code, 'actor.forbidden');
    }
    const unknown = await call('POST', '/v1/webhooks/rekey', 'ada', { batchSize: 0 });
    assert.deepEqual([unknown.statusCode, unknown.json<{ field: string }>().field], [400, 'batchSize']);
  });

  it('a secret is rotated over the API: the new one is in that answer only, a replay does not show it, a bad overlap is a problem naming the field', async () => {
    const hook = (await call('POST', '/v1/webhooks', 'ada', { url: rx.url, events: ['grant.revoked'] })).json<{ id: string; secret: string }>();
    const headers = { 'idempotency-key': 'rotate-1' };
    const rotated = await call('POST', `/v1/webhooks/${hook.id}/rotate-secret`, 'ivan', { overlap: '2h' }, headers);
    assert.equal(rotated.statusCode, 200, rotated.body);
    assert.equal(rotated.headers['cache-control'], 'no-store');
    const answer = rotated.json<{ secret: string; overlapEndsAt: string }>();
    assert.match(answer.secret, /^whsec_/);
    assert.equal(answer.overlapEndsAt, new Date(w.clock.now().getTime() + 2 * 3_600_000).toISOString());
    const replay = await call('POST', `/v1/webhooks/${hook.id}/rotate-secret`, 'ivan', { overlap: '2h' }, headers);
    assert.deepEqual([replay.statusCode, replay.json().secret, replay.json().secretShownOnce], [200, null, true]);
    for (const [body, field] of [[{ overlap: '30d' }, 'overlap'], [{ overlap: 7200 }, 'overlap'], [{ immediately: 'yes' }, 'immediately'], [{ secret: 'whsec_mine' }, 'secret']] as const) {
      const refused = await call('POST', `/v1/webhooks/${hook.id}/rotate-secret`, 'ada', body);
      assert.equal(refused.statusCode, 400, refused.body);
      assert.match(String(refused.headers['content-type']), /application\/problem\+json/);
      assert.deepEqual([refused.json().code, refused.json().field], ['input.invalid', field]);
    }
    const forbidden = await call('POST', `/v1/webhooks/${hook.id}/rotate-secret`, 'carl', {});
    assert.deepEqual([forbidden.statusCode, forbidden.json().code], [403, 'actor.forbidden']);
  });
});
