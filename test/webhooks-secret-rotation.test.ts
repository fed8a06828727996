import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { eq } from 'drizzle-orm';
import { runHousekeeping } from '../src/jobs/housekeeping.js';
import { createWebhook } from '../src/operations/create-webhook.js';
import { deleteWebhook } from '../src/operations/delete-webhook.js';
import { listWebhooks } from '../src/operations/list-webhooks.js';
import { rekeyWebhooks } from '../src/operations/rekey-webhooks.js';
import { rotateWebhookSecret } from '../src/operations/rotate-webhook-secret.js';
import type { Store } from '../src/store/database.js';
import { auditEvents } from '../src/store/schema.js';
import { webhookSubscriptions } from '../src/store/schema-service.js';
import { decryptSecret, keyRing, previousSecretContext, webhookKey, type WebhookKeyRing } from '../src/webhooks/crypto.js';
import { runWebhookTick, verifySignature } from '../src/webhooks/index.js';
import { refusedWith } from './support/assert.js';
import { BACKENDS, freshStore } from './support/backends.js';
import { grantThrough } from './support/flows.js';
import { verifyStandard } from './support/standard-webhooks.js';
import { startReceiver, type Hit, type Receiver } from './support/webhook-receiver.js';
import { HOUR, buildWorld, type World } from './support/world.js';

/** Grants two approvals away, none a duplicate of another. */
const GRANTS = [['carl', 'payments/read'], ['eve', 'crm/read'], ['eve', 'payments/read']] as const;

for (const backend of BACKENDS) {
  describe(`webhook secret rotation (${backend})`, () => {
    let store: Store;
    let w: World;
    let rx: Receiver;
    let granted = 0;
    const key = keyRing([webhookKey(randomBytes(32), 'test')]);

    beforeEach(async () => { store = await freshStore(backend); w = await buildWorld(store); rx = await startReceiver(); granted = 0; });
    afterEach(async () => { await rx.close(); await store.close(); });

    const subscribe = async (ring: WebhookKeyRing = key) => createWebhook(await w.as('ada'), { url: rx.url, events: ['grant.activated'] }, ring);
    const rotate = async (id: string, options: Parameters<typeof rotateWebhookSecret>[2] = {}, as = 'ada', ring: WebhookKeyRing = key) =>
      rotateWebhookSecret(await w.as(as), id, options, ring);
    /** A new grant and the delivery it makes. */
    const nextDelivery = async (ring: WebhookKeyRing = key): Promise<Hit> => {
      const [person, entitlement] = GRANTS[granted++]!;
      await grantThrough(w, person, { entitlement, justification: 'month end', duration: '1d' }, ['sam', 'olivia']);
      assert.equal((await runWebhookTick(w.worker, { key: ring })).delivered, 1);
      return rx.hits.at(-1)!;
    };
    /** Which of `secrets` a receiver holding it would accept the delivery with, in both header formats. */
    const acceptedBy = (hit: Hit, secrets: string[]) => secrets.map((secret) => {
      let standard = true;
      try { verifyStandard(secret, hit, w.clock.now()); } catch { standard = false; }
      const legacy = verifySignature(secret, hit.signature, hit.body, { now: w.clock.now() });
      assert.equal(legacy, standard, 'Tenure-Signature and webhook-signature agree');
      return standard;
    });
    const row = async (id: string) => (await store.db.select().from(webhookSubscriptions).where(eq(webhookSubscriptions.id, id)))[0]!;

    it('during the overlap a delivery verifies with the old and the new secret; after it only the new one does, and housekeeping forgets the old', async () => {
      const hook = await subscribe();
      const rotated = await rotate(hook.id, { overlap: '1h' });
      assert.notEqual(rotated.secret, hook.secret);
      assert.deepEqual(rotated.overlapEndsAt, new Date(w.clock.now().getTime() + HOUR));
      const during = await nextDelivery();
      assert.deepEqual(acceptedBy(during, [hook.secret, rotated.secret]), [true, true]);
      assert.equal(String(during.headers['webhook-signature']).split(' ').length, 2, 'one signature per secret');
      assert.deepEqual(await runHousekeeping(w.worker).then((r) => r.webhookSecrets), 0, 'still in its overlap');

      w.clock.advance(HOUR + 1000);
      const afterwards = await nextDelivery();
      assert.deepEqual(acceptedBy(afterwards, [hook.secret, rotated.secret]), [false, true]);
      assert.equal((await runHousekeeping(w.worker)).webhookSecrets, 1);
      assert.deepEqual([(await row(hook.id)).previousSecretCiphertext, (await row(hook.id)).previousSecretUntil], [null, null]);
    });

    it('with immediately the old secret signs nothing more; rotating again inside an overlap keeps only the secret just replaced', async () => {
      const hook = await subscribe();
      const leaked = await rotate(hook.id, { immediately: true });
      assert.equal(leaked.overlapEndsAt, null);
      assert.deepEqual(acceptedBy(await nextDelivery(), [hook.secret, leaked.secret]), [false, true]);

      const second = await rotate(hook.id);
      assert.deepEqual(second.overlapEndsAt, new Date(w.clock.now().getTime() + 24 * HOUR), 'a day by default');
      const third = await rotate(hook.id, { overlap: '2h' });
      assert.deepEqual(acceptedBy(await nextDelivery(), [leaked.secret, second.secret, third.secret]), [false, true, true]);
    });

    it('neither secret is in the audit event, the listing or the stored row', async () => {
      const hook = await subscribe();
      const rotated = await rotate(hook.id);
      const [event] = await store.db.select().from(auditEvents).where(eq(auditEvents.action, 'webhook.secret_rotated'));
      assert.ok(event, 'the rotation is audited');
      assert.equal(event.subjectId, hook.id);
      const listed = JSON.stringify(await listWebhooks(await w.as('ada'), {}));
      const stored = JSON.stringify(await row(hook.id));
      for (const secret of [hook.secret, rotated.secret]) {
        const bare = secret.slice('whsec_'.length);
        for (const [where, text] of [['audit', event.canonical], ['listing', listed], ['row', stored]]) {
          assert.ok(!text!.includes(bare), `${where} holds a secret`);
        }
      }
      const kept = (await row(hook.id)).previousSecretCiphertext!;
      assert.equal(decryptSecret(key, kept, previousSecretContext(hook.id)), hook.secret);
      assert.throws(() => decryptSecret(key, kept, hook.id), 'copied into the current secret column it does not decrypt');
    });

    it('only those who manage webhooks rotate, and a deleted subscription, an unknown id and a bad overlap are refused by field', async () => {
      const hook = await subscribe();
      for (const who of ['carl', 'audrey', 'sam']) await refusedWith(rotate(hook.id, {}, who), 'actor.forbidden');
      await refusedWith(rotate(hook.id, { overlap: '8d' }), 'input.invalid', 'overlap');
      await refusedWith(rotate(hook.id, { overlap: 'soon' }), 'input.invalid', 'overlap');
      await refusedWith(rotate(hook.id, { overlap: 3600 as unknown as string }), 'input.invalid', 'overlap');
      await refusedWith(rotate(hook.id, { overlap: '1h', immediately: true }), 'input.invalid', 'overlap');
      await refusedWith(rotate(hook.id, { extra: 1 } as never), 'input.invalid');
      await refusedWith(rotate('not-an-id'), 'input.invalid', 'webhook');
      await refusedWith(rotate(w.engagementId), 'webhook.not_found', 'webhook');
      await refusedWith(rotateWebhookSecret(await w.as('ada'), hook.id, {}, undefined), 'webhook.key_missing');
      await deleteWebhook(await w.as('ada'), { webhook: hook.id });
      await refusedWith(rotate(hook.id), 'webhook.disabled', 'webhook');
      const events = await store.db.select().from(auditEvents).where(eq(auditEvents.action, 'webhook.secret_rotated'));
      assert.equal(events.length, 0, 'no refusal wrote anything');
      assert.equal(decryptSecret(key, (await row(hook.id)).secretCiphertext, hook.id), hook.secret);
    });

    it('two rotations at once queue: the later one keeps the earlier one\'s secret as the old one, not the secret both replaced', async () => {
      const hook = await subscribe();
      const [a, b] = await Promise.all([rotate(hook.id), rotate(hook.id)]);
      const current = decryptSecret(key, (await row(hook.id)).secretCiphertext, hook.id);
      const previous = decryptSecret(key, (await row(hook.id)).previousSecretCiphertext!, previousSecretContext(hook.id));
      assert.deepEqual(new Set([current, previous]), new Set([a.secret, b.secret]), 'the original secret is gone');
    });

    it('a rekey moves the replaced secret to the new key too, and deliveries in the overlap still carry both signatures', async () => {
      const older = webhookKey(randomBytes(32), 'old');
      const newer = webhookKey(randomBytes(32), 'new');
      const hook = await subscribe(keyRing([older]));
      const rotated = await rotate(hook.id, {}, 'ada', keyRing([older]));
      const report = await rekeyWebhooks(await w.as('ada'), {}, keyRing([newer, older]));
      assert.deepEqual([report.rekeyed, report.failed], [1, []]);
      assert.ok((await row(hook.id)).previousSecretCiphertext!.startsWith(`v2.${newer.kid}.`));
      assert.deepEqual(acceptedBy(await nextDelivery(keyRing([newer])), [hook.secret, rotated.secret]), [true, true]);
    });
  });
}
