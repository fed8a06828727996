import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { BACKENDS, freshStore } from './support/backends.js';
import { startService, type Service } from './support/service.js';

interface Warning { code: string; message: string }
const inboxOf = async (s: Service, handle: string) => {
  const res = await s.call('GET', '/v1/requests?view=inbox&status=pending', { as: handle });
  assert.equal(res.statusCode, 200, res.body);
  return (res.json() as { items: { id: string; entitlement: string; warnings: Warning[] }[] }).items;
};
const ask = async (s: Service, entitlement: string) => {
  const res = await s.call('POST', '/v1/requests', { as: 'carl', body: { entitlement, justification: 'month-end close', ticket: 'FIN-7', duration: '1d' } });
  assert.equal(res.statusCode, 201, res.body);
  return (res.json() as { id: string }).id;
};

for (const backend of BACKENDS) {
  describe(`what the console asks of the API (${backend})`, () => {
    let s: Service;
    before(async () => { s = await startService(await freshStore(backend)); });
    after(async () => { await s.app.close(); await s.world.store.close(); });

    it('an approver is warned when two pending requests of one person break separation of duties, and again once one is granted', async () => {
      const initiate = await ask(s, 'payments/initiate');
      const approve = await ask(s, 'payments/approve');
      const waiting = await inboxOf(s, 'sam');
      for (const id of [initiate, approve]) {
        const item = waiting.find((r) => r.id === id)!;
        assert.deepEqual(item.warnings.map((w) => w.code), ['sod_conflict_pending']);
        assert.match(item.warnings[0]!.message, /payments-maker-checker/);
      }
      for (const approver of ['sam', 'olivia']) {
        const res = await s.call('POST', `/v1/requests/${initiate}/approve`, { as: approver, body: {} });
        assert.equal(res.statusCode, 200, res.body);
      }
      const left = (await inboxOf(s, 'sam')).find((r) => r.id === approve)!;
      assert.deepEqual(left.warnings.map((w) => w.code), ['sod_conflict_held'], 'he now holds initiate: the grant would be refused');
      assert.equal((await s.call('POST', `/v1/requests/${approve}/approve`, { as: 'sam', body: {} })).statusCode, 200);
      const refused = await s.call('POST', `/v1/requests/${approve}/approve`, { as: 'olivia', body: {} });
      assert.equal(refused.json().code, 'request.sod_conflict', 'the last stage cannot issue the grant');
    });

    it('a request without a conflict carries no warning', async () => {
      const res = await s.call('POST', '/v1/requests', { as: 'eve', body: { entitlement: 'crm/read', justification: 'calls', duration: '1d' } });
      assert.equal(res.statusCode, 201, res.body);
      const mine = (await inboxOf(s, 'sam')).find((r) => r.id === res.json().id);
      assert.deepEqual(mine?.warnings, []);
    });

    it('an engagement shows its scope, end, sponsor and the grants under it to the sponsor and auditors, and to nobody else', async () => {
      const url = `/v1/engagements/${s.world.engagementId}`;
      const seen = await s.call('GET', url, { as: 'sam' });
      assert.equal(seen.statusCode, 200, seen.body);
      const e = seen.json() as { sponsor: string; identity: string; scope: string[]; grants: { entitlement: string; identity: string; status: string }[] };
      assert.deepEqual([e.sponsor, e.identity, e.scope], ['sam', 'carl', ['payments']]);
      assert.ok(e.grants.some((g) => g.entitlement === 'payments/initiate' && g.identity === 'carl' && g.status === 'active'));
      assert.equal((await s.call('GET', url, { as: 'audrey' })).statusCode, 200);
      assert.equal((await s.call('GET', url, { as: 'carl' })).statusCode, 200, 'the engaged person sees their own');
      // Not Olivia: a request of Carl's waits for her above, so she may read his engagement (test/approver-context.test.ts).
      for (const stranger of ['eve', 'vera']) {
        const hidden = await s.call('GET', url, { as: stranger });
        assert.equal(hidden.statusCode, 404);
        assert.equal(hidden.json().code, 'engagement.not_found', 'the same answer as for an id that does not exist');
      }
      const unknown = await s.call('GET', `/v1/engagements/${randomUUID()}`, { as: 'audrey' });
      assert.equal(unknown.json().code, 'engagement.not_found');
      const malformed = await s.call('GET', '/v1/engagements/nope', { as: 'audrey' });
      assert.deepEqual([malformed.statusCode, malformed.json().field], [400, 'engagement']);
    });

    it('systems are listed to everyone signed in, with operations only for operators and owners', async () => {
      const asCarl = await s.call('GET', '/v1/systems', { as: 'carl' });
      assert.equal(asCarl.statusCode, 200, asCarl.body);
      const items = asCarl.json().items as { key: string; operations: unknown }[];
      assert.deepEqual(items.map((i) => i.key), ['crm', 'lab', 'payments']);
      assert.ok(items.every((i) => i.operations === null));
      assert.equal((await s.call('GET', '/v1/systems', { as: null })).statusCode, 401);
      const lag = await s.call('GET', '/v1/stats/revocation-lag?days=14', { as: 'carl' });
      assert.equal(lag.statusCode, 403);
      const audited = await s.call('GET', '/v1/stats/revocation-lag?days=14', { as: 'audrey' });
      assert.equal(audited.statusCode, 200, audited.body);
      assert.equal(audited.json().byDay.length, 14);
      const bad = await s.call('GET', '/v1/stats/revocation-lag?days=0', { as: 'audrey' });
      assert.deepEqual([bad.statusCode, bad.json().field], [400, 'days']);
    });
  });
}
