import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { runProvisioningPass } from '../src/jobs/provisioning/index.js';
import { closeDueCampaigns } from '../src/jobs/reviews.js';
import { cancelRequest } from '../src/operations/cancel-request.js';
import { createRequest } from '../src/operations/create-request.js';
import { createReviewCampaign } from '../src/operations/create-review-campaign.js';
import { createWebhook } from '../src/operations/create-webhook.js';
import { decideReviewItem } from '../src/operations/decide-review-item.js';
import { denyRequest } from '../src/operations/deny-request.js';
import { registerCredential } from '../src/operations/register-credential.js';
import { resolveFinding } from '../src/operations/resolve-finding.js';
import { retireCredential } from '../src/operations/retire-credential.js';
import { rotateCredential } from '../src/operations/rotate-credential.js';
import type { Store } from '../src/store/database.js';
import type { WebhookEventType } from '../src/domain/webhook-events.js';
import { keyRing, webhookKey } from '../src/webhooks/crypto.js';
import { runWebhookTick } from '../src/webhooks/index.js';
import { BACKENDS, freshStore } from './support/backends.js';
import { grantThrough } from './support/flows.js';
import { carlGets } from './support/review-world.js';
import { verifyStandard } from './support/standard-webhooks.js';
import { startReceiver, type Receiver } from './support/webhook-receiver.js';
import { buildWorld, DAY, type World } from './support/world.js';

interface Payload { id: string; type: string; occurredAt: string; data: Record<string, unknown> }
const fingerprintOf = (secret: string) => `sha256:${createHash('sha256').update(secret).digest('hex')}`;

for (const backend of BACKENDS) {
  describe(`webhooks: the complete event set, each verified by a Standard Webhooks receiver (${backend})`, () => {
    let store: Store;
    let w: World;
    let rx: Receiver;
    let secret: string;
    const key = keyRing([webhookKey(randomBytes(32), 'test')]);
    const subscribe = async (events: WebhookEventType[]) => { secret = (await createWebhook(await w.as('ada'), { url: rx.url, events }, key)).secret; };
    /** Delivers what is due and returns the payloads, each verified as a `standardwebhooks` receiver would. */
    const delivered = async (): Promise<Payload[]> => {
      await runWebhookTick(w.worker, { key });
      return rx.hits.map((hit) => {
        const verified = verifyStandard(secret, hit, w.clock.now()) as Payload;
        assert.equal(hit.headers['webhook-id'], verified.id, 'webhook-id is the event id');
        assert.match(String(hit.headers['tenure-signature']), /^t=\d+,v1=[0-9a-f]{64}$/, 'the deprecated header is still sent');
        assert.equal(hit.headers['tenure-webhook-id'], verified.id);
        return verified;
      });
    };
    const ofType = (payloads: Payload[], type: string) => payloads.filter((p) => p.type === type);

    beforeEach(async () => { store = await freshStore(backend); w = await buildWorld(store); rx = await startReceiver(); });
    afterEach(async () => { await rx.close(); await store.close(); });

    it('a denied and a cancelled request are announced with the request and the reason', async () => {
      await subscribe(['request.denied', 'request.cancelled']);
      const denied = await createRequest(await w.as('carl'), { entitlement: 'payments/read', justification: 'month end', duration: '2h' });
      await denyRequest(await w.as('sam'), { request: denied.id, reason: 'not this quarter' });
      const cancelled = await createRequest(await w.as('carl'), { entitlement: 'payments/initiate', justification: 'month end', duration: '2h' });
      await cancelRequest(await w.as('carl'), { request: cancelled.id, reason: 'asked by mistake' });
      const payloads = await delivered();
      assert.deepEqual(payloads.map((p) => p.type).sort(), ['request.cancelled', 'request.denied']);
      const [deny] = ofType(payloads, 'request.denied');
      assert.deepEqual([deny!.data.requestId, deny!.data.beneficiary, deny!.data.entitlement, deny!.data.reason],
        [denied.id, 'carl', 'payments/read', 'not this quarter']);
      const [cancel] = ofType(payloads, 'request.cancelled');
      assert.deepEqual([cancel!.data.requestId, cancel!.data.reason], [cancelled.id, 'asked by mistake']);
    });

    it('a campaign opening is announced once, with one assignment per item, and a reviewer\'s decision follows', async () => {
      const read = await carlGets(w, 'payments/read');
      const initiate = await carlGets(w, 'payments/initiate');
      await subscribe(['review.campaign_opened', 'review.item_assigned', 'review.item_decided']);
      const opened = await createReviewCampaign(await w.as('ivan'), { scope: 'non_employee', reviewer: 'sponsor', dueIn: '14d' });
      const first = await delivered();
      const [campaign] = ofType(first, 'review.campaign_opened');
      assert.deepEqual([campaign!.data.items, campaign!.data.reviewers, campaign!.data.holders], [2, 1, 1]);
      const assigned = ofType(first, 'review.item_assigned');
      assert.deepEqual(assigned.map((p) => p.data.grantId).sort(), [read, initiate].sort());
      assert.equal(new Set(assigned.map((p) => p.id)).size, 2, 'each item is its own event');
      for (const p of assigned) {
        assert.deepEqual([p.data.reviewer, p.data.identity, p.data.campaignId, p.data.status], ['sam', 'carl', campaign!.data.campaignId, 'pending']);
      }
      assert.equal(opened.items, 2);
      const onRead = assigned.find((p) => p.data.grantId === read)!;
      await decideReviewItem(await w.as('sam'), { item: String(onRead.data.itemId), decision: 'keep', comment: 'still reconciling' });
      const [decided] = ofType(await delivered(), 'review.item_decided');
      assert.deepEqual([decided!.data.itemId, decided!.data.grantId, decided!.data.status, decided!.data.decidedBy, decided!.data.reason],
        [onRead.data.itemId, read, 'kept', 'sam', 'still reconciling']);
    });

    it('an item nobody decided by the due date is announced with the default that applied', async () => {
      const read = await carlGets(w, 'payments/read');
      await subscribe(['review.item_defaulted']);
      await createReviewCampaign(await w.as('ivan'), { scope: 'non_employee', reviewer: 'sponsor', dueIn: '7d' });
      w.clock.advance(7 * DAY + 60_000);
      await closeDueCampaigns(w.worker);
      const [defaulted] = ofType(await delivered(), 'review.item_defaulted');
      assert.deepEqual([defaulted!.data.grantId, defaulted!.data.identity, defaulted!.data.status, defaulted!.data.reason],
        [read, 'carl', 'defaulted_revoke', 'not decided by the due date']);
    });

    it('a resolved finding is announced with how it was resolved', async () => {
      await subscribe(['finding.opened', 'finding.resolved']);
      await grantThrough(w, 'eve', { entitlement: 'crm/read', justification: 'customer calls', duration: '7d' }, ['sam', 'olivia']);
      await runProvisioningPass(w.worker);
      w.clock.advance(3 * DAY);
      await runProvisioningPass(w.worker);
      const [opened] = ofType(await delivered(), 'finding.opened');
      await resolveFinding(await w.as('selma'), { finding: String(opened!.data.findingId), resolution: 'account created by hand, confirmed with tom' });
      const [resolved] = ofType(await delivered(), 'finding.resolved');
      assert.deepEqual([resolved!.data.findingId, resolved!.data.kind, resolved!.data.reason],
        [opened!.data.findingId, 'manual_task_overdue', 'account created by hand, confirmed with tom']);
    });

    it('a rotated and a retired credential are announced by fingerprint, never a secret', async () => {
      await subscribe(['credential.rotated', 'credential.retired']);
      const [before, after] = ['tnr_live_before_0123456789abcdefghijklmnopq', 'tnr_live_after_0123456789abcdefghijklmnopqr'];
      const created = await registerCredential(await w.as('tom'), { identity: 'bot', kind: 'api_key', name: 'reporting', fingerprint: fingerprintOf(before), system: 'payments' });
      await rotateCredential(await w.as('tom'), { credential: created.id, fingerprint: fingerprintOf(after) });
      await retireCredential(await w.as('tom'), { credential: created.id, reason: 'reporting moved to the warehouse' });
      const payloads = await delivered();
      const [rotated] = ofType(payloads, 'credential.rotated');
      assert.deepEqual([rotated!.data.credentialId, rotated!.data.identity, rotated!.data.system, rotated!.data.fingerprint],
        [created.id, 'bot', 'payments', fingerprintOf(after)]);
      const [retired] = ofType(payloads, 'credential.retired');
      assert.deepEqual([retired!.data.credentialId, retired!.data.status, retired!.data.reason], [created.id, 'retired', 'reporting moved to the warehouse']);
      for (const hit of rx.hits) assert.ok(!hit.body.includes(before) && !hit.body.includes(after), 'no secret in a payload');
    });
  });
}
