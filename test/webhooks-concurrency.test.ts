import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { sql } from 'drizzle-orm';
import { runLifecycleTick } from '../src/jobs/lifecycle.js';
import type { Context } from '../src/work/context.js';
import { createWebhook } from '../src/operations/create-webhook.js';
import { openPostgres, rawRows, type Store } from '../src/store/database.js';
import { keyRing, webhookKey } from '../src/webhooks/crypto.js';
import { dispatchPending } from '../src/webhooks/dispatch.js';
import { runWebhookTick, type WebhookTickResult } from '../src/webhooks/index.js';
import { seedDueGrants } from './support/flows.js';
import { createScratchDatabase } from './support/postgres-server.js';
import { startReceiver, type Receiver } from './support/webhook-receiver.js';
import { buildWorld, type World } from './support/world.js';

const EVENTS = 400;

/** Two stores on one database stand for two worker processes: separate pools, separate connections. */
describe('webhook workers in several processes on the PostgreSQL server', { skip: process.env.TENURE_TEST_BACKENDS === 'embedded' }, () => {
  let scratch: Awaited<ReturnType<typeof createScratchDatabase>>;
  let first: Store;
  let second: Store;
  let w: World;
  let rx: Receiver;
  const key = keyRing([webhookKey(randomBytes(32), 'test')]);
  const worker = (store: Store): Context => ({ store, clock: w.clock, actor: { id: undefined, channel: 'worker' } });
  const sum = (results: WebhookTickResult[], field: keyof WebhookTickResult) => results.reduce((n, r) => n + r[field], 0);
  const hitsPerId = () => {
    const counts = new Map<string, number>();
    for (const hit of rx.hits) counts.set(hit.id, (counts.get(hit.id) ?? 0) + 1);
    return counts;
  };

  before(async () => {
    scratch = await createScratchDatabase();
    first = await openPostgres(scratch.url, { max: 4 });
    second = await openPostgres(scratch.url, { max: 4 });
    w = await buildWorld(first);
    rx = await startReceiver();
  });
  after(async () => { await rx.close(); await first.close(); await second.close(); await scratch.drop(); });

  /** Grants that ended a second ago: one lifecycle pass expires them all, one grant.expired event each. */
  const expireGrants = async (count: number): Promise<void> => {
    await seedDueGrants(first.db, w, count);
    assert.equal((await runLifecycleTick(w.worker)).grantsExpired, count);
  };

  it('two workers ticking concurrently over many events deliver each event exactly once per attempt', async () => {
    const hook = await createWebhook(await w.as('ivan'), { url: rx.url, events: ['grant.expired'] }, key);
    await expireGrants(EVENTS);
    // The first hit of each event fails and the second succeeds: two attempts, each made exactly once.
    rx.respond = async (hit) => {
      await new Promise((resolve) => setTimeout(resolve, Math.random() * 5));
      return rx.hits.filter((h) => h.id === hit.id).length === 1 ? 500 : 200;
    };
    const round = () => Promise.all([first, second, first, second].map((store) =>
      runWebhookTick(worker(store), { key, dispatchBatchSize: 50, delivery: { batchSize: 10, concurrency: 4 } })));
    const one = await round();
    assert.equal(sum(one, 'dispatched'), EVENTS, 'each event dispatched once, whoever held the cursor');
    assert.equal(sum(one, 'failed'), EVENTS);
    assert.ok([...hitsPerId().values()].every((n) => n === 1) && hitsPerId().size === EVENTS, 'first attempt: one hit per event');
    w.clock.advance(31_000);
    const two = await round();
    assert.equal(sum(two, 'delivered'), EVENTS);
    assert.equal(sum(two, 'failed'), 0);
    assert.ok([...hitsPerId().values()].every((n) => n === 2) && hitsPerId().size === EVENTS, 'second attempt: one more hit per event');
    const [counts] = await rawRows<{ deliveries: number; delivered: number; attempts: number; max_attempt: number }>(first.db, sql`
      SELECT count(*)::int AS deliveries, count(*) FILTER (WHERE status = 'delivered')::int AS delivered,
             (SELECT count(*)::int FROM webhook_attempts) AS attempts, max(attempts)::int AS max_attempt
      FROM webhook_deliveries WHERE subscription_id = ${hook.id}`);
    assert.deepEqual(counts, { deliveries: EVENTS, delivered: EVENTS, attempts: 2 * EVENTS, max_attempt: 2 });
  });

  it('deliveries written before a restart are delivered after it', async () => {
    rx.hits.length = 0;
    rx.respond = () => 200;
    await expireGrants(5);
    assert.equal(await dispatchPending(worker(second)), 5);
    await second.close();
    second = await openPostgres(scratch.url, { max: 4 });
    const result = await runWebhookTick(worker(second), { key });
    assert.equal(result.delivered, 5);
    assert.equal(rx.hits.length, 5);
  });
});
