import assert from 'node:assert/strict';
import { createCipheriv, randomBytes } from 'node:crypto';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { eq } from 'drizzle-orm';
import { createWebhook } from '../src/operations/create-webhook.js';
import { deleteWebhook } from '../src/operations/delete-webhook.js';
import { listWebhookDeliveries } from '../src/operations/list-webhook-deliveries.js';
import { listWebhooks } from '../src/operations/list-webhooks.js';
import { rekeyWebhooks } from '../src/operations/rekey-webhooks.js';
import { openPostgres, type Store } from '../src/store/database.js';
import type { Context } from '../src/work/context.js';
import { auditEvents } from '../src/store/schema.js';
import { webhookSubscriptions } from '../src/store/schema-service.js';
import { decryptSecret, keyRing, urlContext, webhookKey, type WebhookKeyRing } from '../src/webhooks/crypto.js';
import { runWebhookTick, verifySignature } from '../src/webhooks/index.js';
import { BACKENDS, freshStore } from './support/backends.js';
import { refusedWith } from './support/assert.js';
import { grantThrough } from './support/flows.js';
import { startReceiver, type Receiver } from './support/webhook-receiver.js';
import { createScratchDatabase } from './support/postgres-server.js';
import { buildWorld, type World } from './support/world.js';

/** What versions before the key ring stored: `iv.tag.data`, naming no key. */
const legacyEncrypt = (key: Buffer, plain: string, aad: string): string => {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(Buffer.from(aad, 'utf8'));
  const data = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
  return [iv, cipher.getAuthTag(), data].map((part) => part.toString('base64url')).join('.');
};

for (const backend of BACKENDS) {
  describe(`webhook key rotation with a key ring (${backend})`, () => {
    let store: Store;
    let w: World;
    let rx: Receiver;
    const older = webhookKey(randomBytes(32), 'old');
    const newer = webhookKey(randomBytes(32), 'new');
    const oldOnly = keyRing([older]);
    const rotating = keyRing([newer, older]);
    const newOnly = keyRing([newer]);

    beforeEach(async () => { store = await freshStore(backend); w = await buildWorld(store); rx = await startReceiver(); });
    afterEach(async () => { await rx.close(); await store.close(); });

    const subscribe = async (name: string, ring: WebhookKeyRing) =>
      createWebhook(await w.as('ada'), { url: `${rx.url}?hook=${name}`, events: ['grant.activated'] }, ring);
    const row = async (id: string) => (await store.db.select().from(webhookSubscriptions).where(eq(webhookSubscriptions.id, id)))[0]!;
    /** Rewrites a subscription as versions before the key ring stored it, under `key`. */
    const makeLegacy = async (hook: { id: string; secret: string }, url: string) => {
      await store.db.update(webhookSubscriptions).set({
        secretCiphertext: legacyEncrypt(older.key, hook.secret, hook.id), urlCiphertext: legacyEncrypt(older.key, url, urlContext(hook.id)),
      }).where(eq(webhookSubscriptions.id, hook.id));
    };
    const grantAndDeliver = async (ring: WebhookKeyRing, entitlement = 'payments/read') => {
      await grantThrough(w, 'carl', { entitlement, justification: 'month end', duration: '1d' }, ['sam', 'olivia']);
      return runWebhookTick(w.worker, { key: ring });
    };
    const deliveryOf = async (id: string) => (await listWebhookDeliveries(await w.as('ada'), { subscription: id }))[0]!;
    const rekey = async (ring: WebhookKeyRing, check = false) => rekeyWebhooks(await w.as('ada'), { check, batchSize: 2 }, ring);

    it('a subscription stored before the key ring still delivers, next to one under the new current key id', async () => {
      const legacy = await subscribe('legacy', oldOnly);
      await makeLegacy(legacy, `${rx.url}?hook=legacy`);
      const current = await subscribe('current', rotating);
      assert.ok((await row(current.id)).secretCiphertext.startsWith(`v2.${newer.kid}.`), 'a new secret names the current key');
      assert.ok((await row(current.id)).urlCiphertext!.startsWith(`v2.${newer.kid}.`), 'so does its URL');
      assert.equal((await row(legacy.id)).secretCiphertext.split('.').length, 3);
      assert.deepEqual(await grantAndDeliver(rotating), { notices: 0, dispatched: 2, delivered: 2, failed: 0 });
      for (const hook of [legacy, current]) {
        const hit = rx.hits.find((h) => h.path.endsWith(`hook=${hook === legacy ? 'legacy' : 'current'}`))!;
        assert.ok(verifySignature(hook.secret, hit.signature, hit.body, { now: w.clock.now() }), 'signed with its own secret');
      }
    });

    it('rekey moves every subscription to the current key once; a check before changes nothing, a second run nothing more', async () => {
      const legacy = await subscribe('legacy', oldOnly);
      await makeLegacy(legacy, `${rx.url}?hook=legacy`);
      const old = await subscribe('old', oldOnly);
      const current = await subscribe('current', rotating);
      const gone = await subscribe('gone', oldOnly);
      await deleteWebhook(await w.as('ada'), { webhook: gone.id });
      const stored = await store.db.select().from(webhookSubscriptions);

      const keysListed = async () => Object.fromEntries((await listWebhooks(await w.as('ada'), { includeDeleted: true })).map((h) => [h.id, h.key]));
      assert.deepEqual(await keysListed(), { [legacy.id]: 'legacy', [old.id]: older.kid, [current.id]: newer.kid, [gone.id]: older.kid },
        'the listing shows which key each subscription is under');
      const check = await rekey(rotating, true);
      assert.deepEqual({ ...check, keys: [...check.keys].sort() }, {
        check: true, currentKey: newer.kid, keys: [newer.kid, older.kid].sort(), before: { legacy: 1, [older.kid]: 2, [newer.kid]: 1 },
        rekeyed: 3, alreadyCurrent: 1, failed: [],
      });
      assert.deepEqual(await store.db.select().from(webhookSubscriptions), stored, 'a check writes nothing');

      const done = await rekey(rotating);
      assert.deepEqual([done.rekeyed, done.alreadyCurrent, done.failed], [3, 1, []]);
      for (const r of await store.db.select().from(webhookSubscriptions)) {
        assert.ok(r.secretCiphertext.startsWith(`v2.${newer.kid}.`) && r.urlCiphertext!.startsWith(`v2.${newer.kid}.`), `${r.id} is under the new key`);
      }
      assert.equal(decryptSecret(newOnly, (await row(legacy.id)).secretCiphertext, legacy.id), legacy.secret, 'the same secret, re-encrypted');
      assert.equal(decryptSecret(newOnly, (await row(old.id)).urlCiphertext!, urlContext(old.id)), `${rx.url}?hook=old`);
      const events = (await store.db.select().from(auditEvents)).filter((e) => e.action === 'webhook.rekeyed');
      assert.deepEqual(events.map((e) => e.subjectId).sort(), [legacy.id, old.id, gone.id].sort(), 'one event per subscription moved');
      const legacyEvent = JSON.parse(events.find((e) => e.subjectId === legacy.id)!.canonical) as { before: unknown; after: unknown };
      assert.deepEqual([legacyEvent.before, legacyEvent.after], [{ key: 'legacy' }, { key: newer.kid }]);
      assert.ok(!JSON.stringify(events).includes(older.key.toString('base64')) && !JSON.stringify(events).includes(legacy.secret));

      assert.deepEqual(new Set(Object.values(await keysListed())), new Set([newer.kid]));
      const again = await rekey(rotating);
      assert.deepEqual([again.rekeyed, again.alreadyCurrent, again.before], [0, 4, { [newer.kid]: 4 }], 'idempotent');
      assert.deepEqual(await grantAndDeliver(newOnly), { notices: 0, dispatched: 3, delivered: 3, failed: 0 }, 'the old key can go');
      assert.equal((await deliveryOf(current.id)).status, 'delivered');
    });

    it('delivery goes on mid-rotation: with both keys in the ring, rows under either deliver while rekey runs', async () => {
      const hooks = await Promise.all(['a', 'b', 'c', 'd', 'e'].map((name) => subscribe(name, oldOnly)));
      await makeLegacy(hooks[0]!, `${rx.url}?hook=a`);
      hooks.push(await subscribe('f', rotating));
      await grantThrough(w, 'carl', { entitlement: 'payments/read', justification: 'month end', duration: '1d' }, ['sam', 'olivia']);
      const [tick, report] = await Promise.all([
        runWebhookTick(w.worker, { key: rotating }), rekeyWebhooks(await w.as('ada'), { batchSize: 1 }, rotating),
      ]);
      assert.deepEqual(tick, { notices: 0, dispatched: 6, delivered: 6, failed: 0 });
      assert.deepEqual([report.rekeyed, report.alreadyCurrent, report.failed], [5, 1, []]);
      for (const [i, hook] of hooks.entries()) {
        const hit = rx.hits.find((h) => h.path.endsWith(`hook=${'abcdef'[i]!}`))!;
        assert.ok(verifySignature(hook.secret, hit.signature, hit.body, { now: w.clock.now() }));
      }
    });

    it('once the old key has left the ring, a subscription never rekeyed fails, naming the key id and no key', async () => {
      const stale = await subscribe('stale', oldOnly);
      const moved = await subscribe('moved', rotating);
      assert.deepEqual(await grantAndDeliver(newOnly), { notices: 0, dispatched: 2, delivered: 1, failed: 1 });
      const failed = await deliveryOf(stale.id);
      assert.equal(failed.status, 'pending', 'retried later: restoring the key lets it through');
      assert.match(failed.lastError!, new RegExp(`webhook key ${older.kid}, which is not in the key ring \\(${newer.kid}\\)`));
      assert.ok(!failed.lastError!.includes(older.key.toString('base64')) && !failed.lastError!.includes(older.key.toString('base64url')));
      assert.equal((await deliveryOf(moved.id)).status, 'delivered');
      const report = await rekey(newOnly);
      assert.deepEqual(report.failed.map((f) => f.id), [stale.id], 'named by subscription id');
      assert.match(report.failed[0]!.error, new RegExp(older.kid));
      assert.ok(!JSON.stringify(report).includes(stale.secret));
      assert.deepEqual([report.rekeyed, report.alreadyCurrent], [0, 1]);
    });

    it('a ciphertext copied onto another subscription does not decrypt there, and rekey leaves it and names it', async () => {
      const victim = await subscribe('victim', rotating);
      const copy = await subscribe('copy', rotating);
      const damaged = await subscribe('damaged', oldOnly);
      const stolen = await row(victim.id);
      await store.db.update(webhookSubscriptions).set({ secretCiphertext: stolen.secretCiphertext }).where(eq(webhookSubscriptions.id, copy.id));
      await store.db.update(webhookSubscriptions).set({ secretCiphertext: 'not a ciphertext' }).where(eq(webhookSubscriptions.id, damaged.id));
      assert.throws(() => decryptSecret(rotating, stolen.secretCiphertext, copy.id), /does not decrypt with webhook key/);
      assert.equal((await listWebhooks(await w.as('ada'))).find((h) => h.id === damaged.id)!.key, 'malformed', 'one damaged row hides no other');
      const report = await rekey(rotating);
      assert.deepEqual(report.failed.map((f) => f.id).sort(), [copy.id, damaged.id].sort(), 'checked even though it names the current key');
      assert.equal(report.alreadyCurrent, 1);
      assert.equal(report.before.malformed, 1);
      assert.equal((await row(copy.id)).secretCiphertext, stolen.secretCiphertext, 'left as it was');
      assert.deepEqual(await grantAndDeliver(rotating), { notices: 0, dispatched: 3, delivered: 1, failed: 2 });
      assert.match((await deliveryOf(copy.id)).lastError!, /does not decrypt/);
    });

    it('rekey without a key ring is refused, and only by someone allowed to rekey', async () => {
      await refusedWith(rekeyWebhooks(await w.as('ada'), {}, undefined), 'webhook.key_missing');
      await refusedWith(rekeyWebhooks(await w.as('ivan'), {}, rotating), 'actor.forbidden');
      await refusedWith(rekeyWebhooks(await w.as('ivan'), {}, undefined), 'actor.forbidden');
      assert.equal((await rekeyWebhooks(await w.as('selma'), {}, rotating)).rekeyed, 0);
    });
  });
}

/** Two stores on one database stand for two processes: separate pools, separate connections. */
describe('two rekeys at once on the PostgreSQL server', { skip: process.env.TENURE_TEST_BACKENDS === 'embedded' }, () => {
  it('move every subscription exactly once, and every one decrypts with the new key alone', async () => {
    const scratch = await createScratchDatabase();
    const first = await openPostgres(scratch.url, { max: 4 });
    const second = await openPostgres(scratch.url, { max: 4 });
    try {
      const w = await buildWorld(first);
      const older = webhookKey(randomBytes(32), 'old');
      const newer = webhookKey(randomBytes(32), 'new');
      const rotating = keyRing([newer, older]);
      const hooks = [];
      for (let i = 0; i < 30; i++) {
        hooks.push(await createWebhook(await w.as('ada'), { url: `https://hooks.example.com/${i}`, events: ['grant.activated'] }, keyRing([older])));
      }
      const ada = await w.as('ada');
      const on = (store: Store): Context => ({ ...ada, store });
      const reports = await Promise.all([first, second, first, second].map((store) => rekeyWebhooks(on(store), { batchSize: 7 }, rotating)));
      assert.equal(reports.reduce((n, r) => n + r.rekeyed, 0), 30, 'each subscription rekeyed by exactly one of the runs');
      assert.equal(reports.reduce((n, r) => n + r.alreadyCurrent, 0), 90, 'and found already current by the others');
      assert.deepEqual(reports.flatMap((r) => r.failed), []);
      const events = (await first.db.select().from(auditEvents)).filter((e) => e.action === 'webhook.rekeyed');
      assert.equal(new Set(events.map((e) => e.subjectId)).size, 30);
      assert.equal(events.length, 30);
      const newOnly = keyRing([newer]);
      const rows = new Map((await first.db.select().from(webhookSubscriptions)).map((r) => [r.id, r]));
      for (const hook of hooks) {
        assert.equal(decryptSecret(newOnly, rows.get(hook.id)!.secretCiphertext, hook.id), hook.secret);
      }
    } finally {
      await first.close(); await second.close(); await scratch.drop();
    }
  });
});
