import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { createWebhook } from '../src/operations/create-webhook.js';
import { listWebhookDeliveries } from '../src/operations/list-webhook-deliveries.js';
import type { Store } from '../src/store/database.js';
import { keyRing, webhookKey } from '../src/webhooks/crypto.js';
import { claimDue, DELIVERY_DEFAULTS } from '../src/webhooks/deliver.js';
import { dispatchPending } from '../src/webhooks/dispatch.js';
import { runWebhookTick, type WebhookTickOptions } from '../src/webhooks/index.js';
import { BACKENDS, freshStore } from './support/backends.js';
import { grantThrough } from './support/flows.js';
import { startReceiver, type Receiver } from './support/webhook-receiver.js';
import { buildWorld, HOUR, type World } from './support/world.js';

for (const backend of BACKENDS) {
  describe(`webhook retries, give-up and crashed workers (${backend})`, () => {
    let store: Store;
    let w: World;
    let rx: Receiver;
    const key = keyRing([webhookKey(randomBytes(32), 'test')]);
    const tick = (options: WebhookTickOptions = {}) => runWebhookTick(w.worker, { key, ...options });
    const log = async () => (await listWebhookDeliveries(await w.as('ivan')))[0]!;

    beforeEach(async () => {
      store = await freshStore(backend);
      w = await buildWorld(store);
      rx = await startReceiver();
      await createWebhook(await w.as('ivan'), { url: rx.url, events: ['grant.activated'] }, key);
      await grantThrough(w, 'carl', { entitlement: 'payments/read', justification: 'report', duration: '2d' }, ['sam', 'olivia']);
    });
    afterEach(async () => { await rx.close(); await store.close(); });

    it('a receiver that fails gets retries with growing backoff, and every attempt shows in the delivery log', async () => {
      rx.respond = () => 500;
      assert.equal((await tick()).failed, 1);
      const waits: number[] = [];
      for (let attempt = 2; attempt <= 5; attempt += 1) {
        const wait = (await log()).nextAttemptAt!.getTime() - w.clock.now().getTime();
        waits.push(wait);
        w.clock.advance(wait - 1000);
        assert.deepEqual(await tick(), { notices: 0, dispatched: 0, delivered: 0, failed: 0 }, 'not before its time');
        w.clock.advance(1000);
        if (attempt === 5) rx.respond = () => 204;
        assert.equal((await tick()).failed, attempt === 5 ? 0 : 1);
      }
      assert.ok(waits[0]! >= 24_000 && waits[0]! <= 30_000, `first wait ${waits[0]} ms is about 30 s`);
      for (let i = 1; i < waits.length; i += 1) assert.ok(waits[i]! > waits[i - 1]!, `waits grow: ${waits.join(', ')}`);
      const delivery = await log();
      assert.equal(delivery.status, 'delivered');
      assert.equal(delivery.attempts, 5);
      assert.deepEqual(delivery.log.map((a) => a.statusCode), [500, 500, 500, 500, 204]);
      assert.deepEqual(delivery.log.map((a) => a.error), ['HTTP 500', 'HTTP 500', 'HTTP 500', 'HTTP 500', null]);
      assert.ok(delivery.log.every((a) => a.finishedAt !== null));
      assert.equal(new Set(rx.hits.map((h) => h.id)).size, 1, 'every retry carries the same Tenure-Webhook-Id');
    });

    it('after the last attempt the delivery is failed and stays visible in the log', async () => {
      rx.respond = () => 503;
      for (let attempt = 1; attempt <= DELIVERY_DEFAULTS.maxAttempts; attempt += 1) {
        assert.equal((await tick()).failed, 1, `attempt ${attempt}`);
        w.clock.advance(HOUR);
      }
      assert.deepEqual(await tick(), { notices: 0, dispatched: 0, delivered: 0, failed: 0 });
      assert.equal(rx.hits.length, DELIVERY_DEFAULTS.maxAttempts);
      const [failed] = await listWebhookDeliveries(await w.as('ivan'), { status: 'failed' });
      assert.equal(failed?.attempts, 12);
      assert.equal(failed?.nextAttemptAt, null);
      assert.equal(failed?.lastError, 'HTTP 503');
      assert.equal(failed?.log.length, 12);
    });

    it('a receiver that redirects or is down counts as a failed attempt, with the reason in the log', async () => {
      rx.respond = () => 302;
      assert.equal((await tick()).failed, 1, 'redirects are not followed');
      await rx.close();
      w.clock.advance(HOUR);
      assert.equal((await tick()).failed, 1);
      const [redirected, refused] = (await log()).log;
      assert.deepEqual([redirected!.statusCode, redirected!.error], [302, 'HTTP 302']);
      assert.equal(refused!.statusCode, null);
      assert.match(refused!.error!, /ECONNREFUSED/);
      rx = await startReceiver();
    });

    it('a delivery claimed by a worker that then dies is retried after its lock expires, with the same id', async () => {
      await dispatchPending(w.worker);
      const claimed = await claimDue(w.worker, w.clock.now(), DELIVERY_DEFAULTS);
      assert.equal(claimed.length, 1, 'a worker claims it, then dies before posting');
      assert.deepEqual(await tick(), { notices: 0, dispatched: 0, delivered: 0, failed: 0 }, 'still locked');
      w.clock.advance(DELIVERY_DEFAULTS.lockMs - 1000);
      assert.equal((await tick()).delivered, 0);
      w.clock.advance(1000);
      assert.equal((await tick()).delivered, 1, 'the lock expired: another worker retries');
      assert.deepEqual(rx.hits.map((h) => h.id), [claimed[0]!.event_key]);
      const delivery = await log();
      assert.deepEqual(delivery.log.map((a) => [a.attempt, a.statusCode, a.finishedAt === null]), [[1, null, true], [2, 200, false]]);
    });

    it('a crash on the last allowed attempt leaves the delivery failed, not retried past the limit', async () => {
      await dispatchPending(w.worker);
      await claimDue(w.worker, w.clock.now(), { ...DELIVERY_DEFAULTS, maxAttempts: 1 });
      w.clock.advance(DELIVERY_DEFAULTS.lockMs);
      await tick({ delivery: { maxAttempts: 1 } });
      assert.equal(rx.hits.length, 0);
      const delivery = await log();
      assert.equal(delivery.status, 'failed');
      assert.match(delivery.lastError!, /lock expired/);
    });
  });
}
