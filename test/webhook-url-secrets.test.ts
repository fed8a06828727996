import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { eq, sql } from 'drizzle-orm';
import { rawRows } from '../src/store/database.js';
import { webhookSubscriptions } from '../src/store/schema-service.js';
import { keyRing, webhookKey } from '../src/webhooks/crypto.js';
import { runWebhookTick } from '../src/webhooks/index.js';
import { BACKENDS, freshStore, type Backend } from './support/backends.js';
import { grantThrough } from './support/flows.js';
import { startService, type Service } from './support/service.js';
import { startReceiver, type Receiver } from './support/webhook-receiver.js';

const key = keyRing([webhookKey(randomBytes(32), 'test')]);

const suite = (backend: Backend) => describe(`credentials in webhook URLs are never shown (${backend})`, () => {
  let s: Service;
  let rx: Receiver;
  before(async () => {
    s = await startService(await freshStore(backend), { webhookKey: () => key });
    rx = await startReceiver();
  });
  after(async () => { await rx.close(); await s.app.close(); await s.world.store.close(); });

  /** Everything Tenure shows or keeps in clear about webhooks: answers, every audit event, the tables (bar ciphertexts). */
  const everythingShown = async (answers: string[]): Promise<string> => {
    const audit = await rawRows<{ canonical: string }>(s.world.store.db, sql`SELECT canonical FROM audit_events`);
    const search = await s.call('GET', '/v1/audit/events?limit=5000', { as: 'audrey' });
    const listed = await s.call('GET', '/v1/webhooks?includeDeleted=true', { as: 'ada' });
    const rows = await rawRows<{ text: string }>(s.world.store.db, sql`
      SELECT id::text || ' ' || url || ' ' || event_types::text AS text FROM webhook_subscriptions`);
    const kept = await rawRows<{ text: string }>(s.world.store.db, sql`SELECT coalesce(response::text, '') AS text FROM idempotency_keys`);
    return [...answers, ...audit.map((e) => e.canonical), search.body, listed.body, ...rows.map((r) => r.text), ...kept.map((r) => r.text)].join('\n');
  };

  it('a user name or password in the URL is refused without being echoed', async () => {
    const answer = await s.call('POST', '/v1/webhooks', { as: 'ada', body: { url: 'https://tenure:hunter2-pw@hooks.example.com/in', events: ['grant.revoked'] } });
    assert.equal(answer.statusCode, 400);
    assert.deepEqual([answer.json().code, answer.json().field], ['input.invalid', 'url']);
    assert.ok(!answer.body.includes('hunter2'));
  });

  it('a credential in the path or query reaches the receiver and appears in no answer, audit event, search or clear column', async () => {
    const queryCred = `q${randomBytes(12).toString('hex')}`;
    const pathCred = `p${randomBytes(12).toString('hex')}`;
    const answers: string[] = [];
    const ids: string[] = [];
    for (const [i, url] of [`${rx.url}?token=${queryCred}`, `${rx.url}/${pathCred}`].entries()) {
      const created = await s.call('POST', '/v1/webhooks', { as: 'ada', body: { url, events: ['grant.activated'] }, headers: { 'idempotency-key': `hook-${i}` } });
      assert.equal(created.statusCode, 201, created.body);
      assert.equal(created.json().url, `${new URL(rx.url).origin}/…`);
      answers.push(created.body);
      ids.push(created.json().id as string);
    }
    await grantThrough(s.world, 'carl', { entitlement: 'payments/read', justification: 'report', duration: '1d' }, ['sam', 'olivia']);
    assert.equal((await runWebhookTick(s.world.worker, { key })).delivered, 2);
    const paths = rx.hits.map((hit) => hit.path).sort();
    assert.deepEqual(paths, [`/hooks/tenure/${pathCred}`, `/hooks/tenure?token=${queryCred}`].sort(), 'deliveries go to the full URL');
    for (const id of ids) answers.push((await s.call('DELETE', `/v1/webhooks/${id}`, { as: 'ada' })).body);
    const shown = await everythingShown(answers);
    assert.ok(shown.includes('webhook.deleted') && shown.includes(ids[0]!), 'the scan saw the webhook events');
    for (const secret of [queryCred, pathCred]) assert.ok(!shown.includes(secret), `${secret} was shown or kept in clear`);
  });

  it('a subscription stored in clear before URLs were encrypted is listed redacted and still delivered to', async () => {
    const legacyCred = `l${randomBytes(12).toString('hex')}`;
    const created = await s.call('POST', '/v1/webhooks', { as: 'ada', body: { url: rx.url, events: ['grant.activated'] } });
    const id = created.json().id as string;
    // The row as a database from before the fix holds it: the full URL in clear, no ciphertext.
    await s.world.store.db.update(webhookSubscriptions).set({ url: `${rx.url}?sig=${legacyCred}`, urlCiphertext: null })
      .where(eq(webhookSubscriptions.id, id));
    const listed = await s.call('GET', '/v1/webhooks', { as: 'ada' });
    assert.ok(listed.body.includes(id) && !listed.body.includes(legacyCred));
    rx.hits.length = 0;
    await grantThrough(s.world, 'eve', { entitlement: 'crm/read', justification: 'lookup', duration: '1d' }, ['sam', 'olivia']);
    assert.equal((await runWebhookTick(s.world.worker, { key })).delivered, 1);
    assert.equal(rx.hits[0]!.path, `/hooks/tenure?sig=${legacyCred}`);
  });
});

for (const backend of BACKENDS) suite(backend);
