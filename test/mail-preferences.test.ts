import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { sql } from 'drizzle-orm';
import { rawRows, type Store } from '../src/store/database.js';
import { BACKENDS, freshStore } from './support/backends.js';
import { startService, type Service } from './support/service.js';

for (const backend of BACKENDS) {
  describe(`the daily digest is each person's choice, through the API (${backend})`, () => {
    let store: Store;
    let s: Service;
    const setting = async (handle: string) => (await rawRows<{ mail_delivery: string }>(store.db,
      sql`SELECT mail_delivery FROM identities WHERE handle = ${handle}`))[0]!.mail_delivery;

    before(async () => { store = await freshStore(backend); s = await startService(store); });
    after(async () => { await s.app.close(); await store.close(); });

    it('anyone chooses the digest for themselves, and the change is audited', async () => {
      const answer = await s.call('PUT', '/v1/me/notifications', { as: 'carl', body: { mailDelivery: 'daily_digest' } });
      assert.equal(answer.statusCode, 200, answer.body);
      assert.deepEqual(answer.json(), { handle: 'carl', mailDelivery: 'daily_digest', changed: true });
      assert.equal(await setting('carl'), 'daily_digest');
      const [event] = await rawRows<{ n: number }>(store.db, sql`SELECT count(*)::int AS n FROM audit_events WHERE action = 'identity.mail_delivery_changed'`);
      assert.equal(event!.n, 1);
    });

    it("an admin sets someone else's; anyone else is refused; an unknown mode names the field", async () => {
      assert.equal((await s.call('PUT', '/v1/identities/sam/notifications', { as: 'ada', body: { mailDelivery: 'daily_digest' } })).statusCode, 200);
      assert.equal(await setting('sam'), 'daily_digest');
      assert.equal((await s.call('PUT', '/v1/identities/sam/notifications', { as: 'carl', body: { mailDelivery: 'immediate' } })).statusCode, 403);
      assert.equal(await setting('sam'), 'daily_digest');
      const bad = await s.call('PUT', '/v1/me/notifications', { as: 'carl', body: { mailDelivery: 'weekly' } });
      assert.equal(bad.statusCode, 400);
      assert.match(bad.body, /mailDelivery/);
    });
  });
}
