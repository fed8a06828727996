import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { eq } from 'drizzle-orm';
import { runLifecycleTick } from '../src/jobs/lifecycle.js';
import { runProvisioningPass } from '../src/jobs/provisioning/index.js';
import { createRequest } from '../src/operations/create-request.js';
import { createWebhook } from '../src/operations/create-webhook.js';
import { deleteWebhook } from '../src/operations/delete-webhook.js';
import { listWebhookDeliveries } from '../src/operations/list-webhook-deliveries.js';
import { listWebhooks } from '../src/operations/list-webhooks.js';
import { revokeGrant } from '../src/operations/revoke-grant.js';
import { startBreakGlass } from '../src/operations/start-break-glass.js';
import type { Store } from '../src/store/database.js';
import { auditEvents } from '../src/store/schema.js';
import { webhookSubscriptions } from '../src/store/schema-service.js';
import { decryptSecret, keyRing, newWebhookSecret, urlContext, webhookKey } from '../src/webhooks/crypto.js';
import { redactWebhookUrl } from '../src/webhooks/url.js';
import { runWebhookTick, verifySignature } from '../src/webhooks/index.js';
import { refusedWith } from './support/assert.js';
import { verifyStandard } from './support/standard-webhooks.js';
import { BACKENDS, freshStore } from './support/backends.js';
import { breakGlassPolicy } from './support/break-glass-policy.js';
import { grantThrough } from './support/flows.js';
import { applyPolicyText } from './support/provisioning-world.js';
import { startReceiver, type Hit, type Receiver } from './support/webhook-receiver.js';
import { buildWorld, DAY, HOUR, type World } from './support/world.js';

interface Payload { id: string; type: string; occurredAt: string; data: Record<string, unknown> }
const payload = (hit: Hit) => JSON.parse(hit.body) as Payload;

for (const backend of BACKENDS) {
  describe(`webhooks: subscriptions, signed deliveries, expiry notices (${backend})`, () => {
    let store: Store;
    let w: World;
    let rx: Receiver;
    const key = keyRing([webhookKey(randomBytes(32), 'test')]);
    const tick = () => runWebhookTick(w.worker, { key });
    const ada = () => w.as('ada');
    const carlGets = (entitlement: string, duration = '2d') =>
      grantThrough(w, 'carl', { entitlement, justification: 'reconcile the March batches', duration }, ['sam', 'olivia']);

    beforeEach(async () => { store = await freshStore(backend); w = await buildWorld(store); rx = await startReceiver(); });
    afterEach(async () => { await rx.close(); await store.close(); });

    it('a signed delivery verifies with the secret (both the Standard Webhooks and the deprecated Tenure-Signature headers) and fails with another secret, an altered body or an old timestamp', async () => {
      const hook = await createWebhook(await ada(), { url: rx.url, events: ['request.created', 'approval.needed', 'grant.activated'] }, key);
      const grantId = await carlGets('payments/read');
      const result = await tick();
      assert.deepEqual(result, { notices: 0, dispatched: 4, delivered: 4, failed: 0 });
      assert.equal(rx.hits.length, 4);
      const now = w.clock.now();
      for (const hit of rx.hits) {
        assert.ok(verifySignature(hook.secret, hit.signature, hit.body, { now }), 'the subscription secret verifies');
        assert.equal(verifySignature(newWebhookSecret(), hit.signature, hit.body, { now }), false, 'another secret does not');
        assert.equal(verifySignature(hook.secret, hit.signature, hit.body.replace('carl', 'mallory'), { now }), false);
        assert.equal(verifySignature(hook.secret, hit.signature, hit.body, { now: new Date(now.getTime() + 10 * 60_000) }), false, 'too old');
        assert.equal(payload(hit).id, hit.id, 'Tenure-Webhook-Id is the payload id');
        assert.deepEqual(verifyStandard(hook.secret, hit, now), JSON.parse(hit.body), 'a standardwebhooks receiver verifies it');
        assert.equal(hit.headers['webhook-id'], hit.id, 'webhook-id is the payload id');
        assert.throws(() => verifyStandard(newWebhookSecret(), hit, now), 'a standardwebhooks receiver refuses another secret');
        assert.throws(() => verifyStandard(hook.secret, { ...hit, body: hit.body.replace('carl', 'mallory') }, now));
        assert.throws(() => verifyStandard(hook.secret, hit, new Date(now.getTime() + 10 * 60_000)), 'too old');
        assert.equal(hit.headers['content-type'], 'application/json');
      }
      const types = rx.hits.map(payload).sort((a, b) => a.id.localeCompare(b.id, 'en', { numeric: true }));
      assert.deepEqual(types.map((p) => p.type), ['approval.needed', 'request.created', 'approval.needed', 'grant.activated']);
      const [sponsorStage, created, ownerStage, activated] = types;
      assert.deepEqual(sponsorStage!.data.stage, { position: 0, kind: 'sponsor' });
      assert.deepEqual(sponsorStage!.data.approvers, ['sam']);
      assert.equal(created!.data.beneficiary, 'carl');
      assert.equal(created!.data.entitlement, 'payments/read');
      assert.equal((ownerStage!.data.stage as { kind: string }).kind, 'system_owner');
      assert.ok((ownerStage!.data.approvers as string[]).includes('olivia'));
      assert.equal(activated!.data.grantId, grantId);
      assert.equal(activated!.data.identity, 'carl');
      assert.equal(activated!.data.sponsor, 'sam');
      assert.equal(activated!.data.endsAt, new Date(w.clock.now().getTime() + 2 * DAY).toISOString());
      assert.deepEqual(await tick(), { notices: 0, dispatched: 0, delivered: 0, failed: 0 }, 'nothing is delivered twice');
    });

    it('a request that lapses undecided is announced, with who asked and why, so the requester can be told', async () => {
      await createWebhook(await ada(), { url: rx.url, events: ['request.expired'] }, key);
      const request = await createRequest(await w.as('carl'), { entitlement: 'payments/read', justification: 'month end', duration: '2h' });
      w.clock.advance(7 * DAY + 60_000);
      await runLifecycleTick(w.worker);
      await tick();
      const [expired, ...more] = rx.hits.map(payload);
      assert.equal(more.length, 0, 'one event, only of the type subscribed');
      assert.equal(expired!.type, 'request.expired');
      assert.equal(expired!.data.requestId, request.id);
      assert.equal(expired!.data.requester, 'carl');
      assert.equal(expired!.data.entitlement, 'payments/read');
      assert.equal(expired!.data.reason, 'no decision in time');
    });

    it('a manual task tells the technical owner, and its overdue removal arrives as a finding', async () => {
      await createWebhook(await ada(), { url: rx.url, events: ['task.opened', 'finding.opened'] }, key);
      const grantId = await grantThrough(w, 'eve', { entitlement: 'crm/read', justification: 'customer calls', duration: '7d' }, ['sam', 'olivia']);
      await runProvisioningPass(w.worker);
      await tick();
      const task = rx.hits.map(payload).find((p) => p.type === 'task.opened')!;
      assert.deepEqual({ owner: task.data.owner, action: task.data.action, grantId: task.data.grantId }, { owner: 'tom', action: 'provision', grantId });
      w.clock.advance(3 * DAY);
      await runProvisioningPass(w.worker);
      await tick();
      const finding = rx.hits.map(payload).find((p) => p.type === 'finding.opened')!;
      assert.equal(finding.data.kind, 'manual_task_overdue');
      assert.equal(finding.data.owner, 'tom');
      assert.match(String(finding.data.summary), /provisioning of .* is not confirmed/);
    });

    it('breaking the glass is announced at once, with the incident, the sponsor and when the review is due', async () => {
      await applyPolicyText(w, breakGlassPolicy());
      await createWebhook(await ada(), { url: rx.url, events: ['breakglass.activated'] }, key);
      const started = await startBreakGlass(await w.as('carl'), { entitlement: 'payments/admin', incident: 'INC-9', reason: 'outage' });
      await tick();
      const [announced] = rx.hits.map(payload);
      assert.equal(announced!.type, 'breakglass.activated');
      assert.deepEqual({ identity: announced!.data.identity, sponsor: announced!.data.sponsor, incident: announced!.data.incident, grantId: announced!.data.grantId },
        { identity: 'carl', sponsor: 'sam', incident: 'INC-9', grantId: started.grantId });
      assert.equal(announced!.data.reviewDueAt, started.reviewDueAt.toISOString());
    });

    it('the secret is shown once and is neither in the database in clear nor in any audit event', async () => {
      const hook = await createWebhook(await ada(), { url: rx.url, events: ['grant.revoked', 'grant.revoked'] }, key);
      assert.match(hook.secret, /^whsec_[A-Za-z0-9+/]{43}=$/, 'standard base64 after whsec_, as Standard Webhooks libraries expect');
      assert.deepEqual(hook.events, ['grant.revoked']);
      const bare = hook.secret.slice('whsec_'.length);
      const listed = JSON.stringify(await listWebhooks(await ada()));
      assert.ok(!listed.includes(bare) && !listed.includes('secret'), 'listing never shows the secret, even encrypted');
      const rows = await store.db.select().from(webhookSubscriptions);
      assert.ok(!JSON.stringify(rows).includes(bare), 'the table holds ciphertext only');
      assert.equal(decryptSecret(key, rows[0]!.secretCiphertext, hook.id), hook.secret, 'the webhook key decrypts it');
      assert.throws(() => decryptSecret(keyRing([webhookKey(randomBytes(32), 'other')]), rows[0]!.secretCiphertext, hook.id));
      assert.throws(() => decryptSecret(key, rows[0]!.secretCiphertext, w.engagementId), 'bound to its subscription');
      const events = await store.db.select().from(auditEvents);
      assert.ok(events.every((e) => !e.canonical.includes(bare)));
      const created = events.find((e) => e.action === 'webhook.created');
      assert.deepEqual(JSON.parse(created!.canonical).after, { url: redactWebhookUrl(rx.url), events: ['grant.revoked'] });
    });

    it('a subscription created after an event does not receive it', async () => {
      await carlGets('payments/read');
      await createWebhook(await ada(), { url: rx.url, events: ['grant.activated'] }, key);
      const later = await carlGets('payments/initiate');
      assert.equal((await tick()).delivered, 1);
      assert.deepEqual(rx.hits.map((h) => payload(h).data.grantId), [later]);
    });

    it('a scheduled grant is announced when it activates, and its revocation and an expiry say why they ended', async () => {
      await createWebhook(await ada(), { url: rx.url, events: ['grant.activated', 'grant.revoked', 'grant.expired'] }, key);
      const startsAt = new Date(w.clock.now().getTime() + DAY).toISOString();
      const scheduled = await grantThrough(w, 'carl', { entitlement: 'payments/read', justification: 'next week', startsAt, duration: '1d' }, ['sam', 'olivia']);
      const revoked = await carlGets('payments/initiate');
      assert.equal((await tick()).delivered, 1, 'only the grant active at once is announced so far');
      await revokeGrant(await w.as('ivan'), { grant: revoked, reason: 'migration cancelled' });
      w.clock.advance(DAY);
      await runLifecycleTick(w.worker);
      w.clock.advance(DAY);
      await runLifecycleTick(w.worker);
      assert.equal((await tick()).delivered, 3);
      const seen = rx.hits.map(payload).map((p) => [p.type, p.data.grantId, p.data.reason ?? null]);
      assert.deepEqual(seen.sort(), [
        ['grant.activated', revoked, null], ['grant.activated', scheduled, null],
        ['grant.expired', scheduled, 'window ended'], ['grant.revoked', revoked, 'migration cancelled'],
      ].sort());
    });

    it('a deleted subscription receives nothing more and its waiting deliveries are marked failed', async () => {
      const hook = await createWebhook(await ada(), { url: rx.url, events: ['grant.activated'] }, key);
      rx.respond = () => 500;
      await carlGets('payments/read');
      assert.equal((await tick()).failed, 1);
      const deleted = await deleteWebhook(await ada(), { webhook: hook.id });
      assert.equal(deleted.cancelledDeliveries, 1);
      assert.equal((await deleteWebhook(await ada(), { webhook: hook.id })).cancelledDeliveries, 0, 'deleting twice changes nothing');
      rx.respond = () => 200;
      await carlGets('payments/initiate');
      w.clock.advance(HOUR);
      assert.deepEqual(await tick(), { notices: 0, dispatched: 0, delivered: 0, failed: 0 });
      assert.equal(rx.hits.length, 1);
      const [log] = await listWebhookDeliveries(await ada(), { subscription: hook.id });
      assert.equal(log!.status, 'failed');
      assert.equal(log!.lastError, 'the subscription was deleted');
      assert.deepEqual(await listWebhooks(await ada()), []);
      assert.equal((await listWebhooks(await ada(), { includeDeleted: true }))[0]!.disabledAt?.getTime(), w.clock.now().getTime() - HOUR);
      const audit = await store.db.select().from(auditEvents).where(eq(auditEvents.action, 'webhook.deleted'));
      assert.equal(audit.length, 1);
    });

    it('bad input, a missing permission and a missing key are refused with their codes', async () => {
      for (const url of ['ftp://hooks.example.com/x', 'http://hooks.example.com/x', 'https://user:pw@hooks.example.com/x', 'hooks.example.com']) {
        await refusedWith(createWebhook(await ada(), { url, events: ['grant.revoked'] }, key), 'input.invalid', 'url');
      }
      await refusedWith(createWebhook(await ada(), { url: rx.url, events: ['grant.nope' as 'grant.revoked'] }, key), 'input.invalid', 'events.0');
      await refusedWith(createWebhook(await ada(), { url: rx.url, events: [] }, key), 'input.invalid', 'events');
      await refusedWith(createWebhook(await w.as('carl'), { url: rx.url, events: ['grant.revoked'] }, key), 'actor.forbidden');
      await refusedWith(listWebhookDeliveries(await w.as('audrey')), 'actor.forbidden');
      await refusedWith(createWebhook(await ada(), { url: rx.url, events: ['grant.revoked'] }, undefined), 'webhook.key_missing');
      await refusedWith(deleteWebhook(await ada(), { webhook: w.engagementId }), 'webhook.not_found', 'webhook');
      const selma = await createWebhook(await w.as('selma'), { url: 'https://hooks.example.com/tenure#frag', events: ['finding.opened'] }, key);
      assert.equal(selma.url, 'https://hooks.example.com/…', 'security may subscribe; the URL is shown redacted');
      const [row] = await store.db.select().from(webhookSubscriptions).where(eq(webhookSubscriptions.id, selma.id));
      assert.equal(decryptSecret(key, row!.urlCiphertext!, urlContext(selma.id)), 'https://hooks.example.com/tenure', 'the fragment is dropped');
    });

    it('a grant is reminded two weeks and one day before its end, once each, once someone listens', async () => {
      const grantId = await carlGets('payments/read', '20d');
      const endsAt = new Date(w.clock.now().getTime() + 20 * DAY).toISOString();
      w.clock.advance(7 * DAY);
      assert.equal((await tick()).notices, 0, 'nobody subscribes: no notice is written');
      await createWebhook(await ada(), { url: rx.url, events: ['grant.expiring_soon'] }, key);
      assert.deepEqual(await tick(), { notices: 1, dispatched: 1, delivered: 1, failed: 0 });
      const notice = payload(rx.hits[0]!);
      assert.equal(notice.type, 'grant.expiring_soon');
      assert.deepEqual({ grantId: notice.data.grantId, sponsor: notice.data.sponsor, endsAt: notice.data.endsAt, before: notice.data.noticeBeforeMs },
        { grantId, sponsor: 'sam', endsAt, before: 14 * DAY });
      w.clock.advance(HOUR);
      assert.equal((await tick()).notices, 0, 'one notice per reminder');
      w.clock.advance(12 * DAY);
      assert.equal((await tick()).notices, 1, 'the day-before reminder');
      assert.equal(payload(rx.hits[1]!).data.noticeBeforeMs, DAY);
      w.clock.advance(HOUR);
      assert.equal((await tick()).notices, 0);
      const audit = await store.db.select().from(auditEvents).where(eq(auditEvents.action, 'grant.expiring_soon'));
      assert.equal(audit.length, 2);
    });

    it('the sponsor is reminded before an engagement ends, two weeks and one day ahead', async () => {
      await createWebhook(await ada(), { url: rx.url, events: ['engagement.expiring_soon'] }, key);
      assert.equal((await tick()).notices, 0, 'Carl\'s engagement ends in 60 days');
      w.clock.advance(47 * DAY);
      assert.equal((await tick()).notices, 1);
      const reminder = payload(rx.hits[0]!);
      assert.deepEqual({ type: reminder.type, identity: reminder.data.identity, sponsor: reminder.data.sponsor, vendor: reminder.data.vendor,
        before: reminder.data.noticeBeforeMs }, { type: 'engagement.expiring_soon', identity: 'carl', sponsor: 'sam', vendor: 'Acme Integrators', before: 14 * DAY });
      w.clock.advance(12 * DAY);
      assert.equal((await tick()).notices, 1);
      assert.equal(payload(rx.hits[1]!).data.noticeBeforeMs, DAY);
    });
  });
}
