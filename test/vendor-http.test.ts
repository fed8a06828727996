import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { count } from 'drizzle-orm';
import { createToken } from '../src/operations/create-token.js';
import { createWebhook } from '../src/operations/create-webhook.js';
import { auditEvents, vendors } from '../src/store/schema.js';
import { keyRing, webhookKey } from '../src/webhooks/crypto.js';
import { runWebhookTick } from '../src/webhooks/index.js';
import { BACKENDS, freshStore } from './support/backends.js';
import { startService, type Service } from './support/service.js';
import { startReceiver } from './support/webhook-receiver.js';
import { DAY } from './support/world.js';

const JSON_BODY = { 'content-type': 'application/json' };

for (const backend of BACKENDS) {
  describe(`vendors over HTTP (${backend})`, () => {
    let s: Service;
    let acme: string;
    before(async () => {
      s = await startService(await freshStore(backend));
      acme = (await s.world.store.db.select().from(vendors))[0]!.id;
    });
    after(async () => { await s.app.close(); await s.world.store.close(); });

    const auditCount = async () => Number((await s.world.store.db.select({ n: count() }).from(auditEvents))[0]!.n);
    const later = (days: number) => new Date(s.world.clock.now().getTime() + days * DAY).toISOString();
    const move = (as: string | null, body: unknown, headers: Record<string, string> = {}) =>
      s.call('POST', `/v1/vendors/${acme}/contract-end`, { as, body, headers: { ...JSON_BODY, ...headers } });

    it('a token IAM minted for someone else acts as that someone, who may not move the end: nothing is written', async () => {
      // Ivan (IAM) mints a token for Tom's reporting bot: the bot, not Ivan, is the actor.
      const minted = await createToken(await s.world.as('ivan'), { name: 'bot token', identity: 'bot', scopes: ['read', 'write'] });
      const before = await auditCount();
      const res = await move(null, { contractEnd: later(-1), reason: 'ended' }, { authorization: `Bearer ${minted.secret}` });
      assert.equal(res.statusCode, 404, res.body);
      assert.equal(res.json().code, 'vendor.not_found');
      assert.equal(await auditCount(), before);
    });

    it('a read-only token of the relationship owner may not move the end', async () => {
      const readOnly = await s.token('sam', ['read']);
      const res = await move(null, { contractEnd: later(9), reason: 'x' }, { authorization: `Bearer ${readOnly}` });
      assert.equal(res.statusCode, 403, res.body);
      assert.equal(res.json().code, 'auth.scope_missing');
    });

    for (const c of [
      { story: 'a date beyond the ten-year cap', body: { contractEnd: '2045-01-01T00:00:00Z', reason: 'x' }, status: 422, code: 'vendor.invalid_contract_end' },
      { story: 'garbage for a date', body: { contractEnd: 'soon', reason: 'x' }, status: 400, code: 'input.invalid' },
      { story: 'a number for a date', body: { contractEnd: 1e15, reason: 'x' }, status: 400, code: 'input.invalid' },
    ]) {
      it(`${c.story} is a ${c.status} problem+json naming contractEnd, and writes nothing`, async () => {
        await s.call('GET', '/v1/me', { as: 'sam' });
        const before = await auditCount();
        const res = await move('sam', c.body);
        assert.equal(res.statusCode, c.status, res.body);
        assert.match(String(res.headers['content-type']), /^application\/problem\+json/);
        assert.deepEqual([res.json().code, res.json().field], [c.code, 'contractEnd']);
        assert.equal(await auditCount(), before);
      });
    }

    it('the relationship owner reads the vendor page and its list; an employee with no part gets 404 and an empty list', async () => {
      const page = await s.call('GET', `/v1/vendors/${encodeURIComponent('Acme Integrators')}`, { as: 'sam' });
      assert.equal(page.statusCode, 200, page.body);
      assert.deepEqual([page.json().name, page.json().relationshipOwner, page.json().engagements.length], ['Acme Integrators', 'sam', 1]);
      assert.equal((await s.call('GET', '/v1/vendors', { as: 'audrey' })).json().items.length, 1);
      assert.equal((await s.call('GET', `/v1/vendors/${acme}`, { as: 'eve' })).statusCode, 404);
      assert.deepEqual((await s.call('GET', '/v1/vendors', { as: 'eve' })).json().items, []);
    });

    it("the vendor's evidence pack is served to the relationship owner and auditors, 404 to others", async () => {
      const pack = await s.call('GET', `/v1/vendors/${acme}/evidence?from=2029-01-01T00:00:00Z`, { as: 'sam' });
      assert.equal(pack.statusCode, 200, pack.body);
      assert.deepEqual([pack.json().title, pack.json().vendor.name], ['vendor Acme Integrators', 'Acme Integrators']);
      assert.equal((await s.call('GET', `/v1/vendors/${acme}/evidence`, { as: 'audrey' })).statusCode, 200);
      assert.equal((await s.call('GET', `/v1/vendors/${acme}/evidence`, { as: 'eve' })).statusCode, 404);
      const bad = await s.call('GET', `/v1/vendors/${acme}/evidence?from=yesterday`, { as: 'sam' });
      assert.deepEqual([bad.statusCode, bad.json().field], [400, 'from']);
    });

    it('the relationship owner is reminded two weeks and a day before the contract ends, then the owner moves the end and it ends', async () => {
      const rx = await startReceiver();
      const key = keyRing([webhookKey(randomBytes(32), 'test')]);
      try {
        await createWebhook(await s.world.as('ada'), { url: rx.url, events: ['vendor.expiring_soon'] }, key);
        const moved = await move('sam', { contractEnd: later(20), reason: 'contract shortened' });
        assert.equal(moved.statusCode, 200, moved.body);
        assert.equal(moved.json().engagementsShortened, 1);
        assert.equal((await runWebhookTick(s.world.worker, { key })).notices, 0, 'twenty days ahead: no reminder yet');
        s.world.clock.advance(6 * DAY);
        assert.equal((await runWebhookTick(s.world.worker, { key })).notices, 1, 'two weeks ahead (only vendor reminders are subscribed to)');
        const reminder = rx.hits.map((h) => JSON.parse(h.body) as { type: string; data: Record<string, unknown> }).find((p) => p.type === 'vendor.expiring_soon')!;
        assert.deepEqual([reminder.data.vendor, reminder.data.relationshipOwner, reminder.data.activeEngagements, reminder.data.noticeBeforeMs],
          ['Acme Integrators', 'sam', 1, 14 * DAY]);
        s.world.clock.advance(13 * DAY);
        assert.equal((await runWebhookTick(s.world.worker, { key })).notices, 1, 'the day before');
        assert.equal((await runWebhookTick(s.world.worker, { key })).notices, 0, 'each reminder once');
        const ended = await move('sam', { contractEnd: later(-1), reason: 'wound up early' });
        assert.deepEqual([ended.json().ended, ended.json().engagementsEnded], [true, 1]);
      } finally {
        await rx.close();
      }
    });
  });
}
