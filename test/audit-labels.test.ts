import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { freshStore } from './support/backends.js';
import { startService, type Service } from './support/service.js';

interface Event { seq: number; action: string; actor: { id: string | null; label?: string }; subject: { type: string; id: string; label?: string } }
type Page = { items: Event[]; nextCursor: string | null };

/** The audit search as the console reads it: newest first on arrival, with people and access by name. */
describe('the audit search names actors and subjects and lists newest first when asked', () => {
  let s: Service;
  const search = async (query: string): Promise<Page> => {
    const res = await s.call('GET', `/v1/audit/events?${query}`, { as: 'audrey' });
    assert.equal(res.statusCode, 200, res.body);
    return res.json() as Page;
  };

  before(async () => {
    s = await startService(await freshStore('embedded'));
    const asked = await s.call('POST', '/v1/requests', { as: 'carl', body: { entitlement: 'payments/read', justification: 'reconcile', duration: '1d' } });
    assert.equal(asked.statusCode, 201, asked.body);
    assert.equal((await s.call('POST', `/v1/requests/${asked.json().id}/approve`, { as: 'sam', body: {} })).statusCode, 200);
  });
  after(async () => { await s.app.close(); await s.world.store.close(); });

  it('an approval is labelled with its approver by name and its request by beneficiary and entitlement', async () => {
    const { items } = await search('action=request.stage_approved');
    const approval = items.at(-1)!;
    assert.equal(approval.actor.label, 'sam (Sam Sponsor)');
    assert.equal(approval.subject.label, 'carl · payments/read');
    assert.match(approval.subject.id, /^[0-9a-f-]{36}$/, 'the id stays the evidence');
  });

  it('order=desc lists the newest first and its cursor pages on to older events', async () => {
    const oldestFirst = (await search('limit=5000')).items.map((e) => e.seq);
    const first = await search('order=desc&limit=3');
    assert.deepEqual(first.items.map((e) => e.seq), oldestFirst.slice(-3).reverse());
    assert.ok(first.nextCursor);
    const second = await search(`order=desc&limit=3&cursor=${first.nextCursor}`);
    assert.deepEqual(second.items.map((e) => e.seq), oldestFirst.slice(-6, -3).reverse());
  });

  it('without order the search stays oldest first, as existing clients expect', async () => {
    const seqs = (await search('limit=10')).items.map((e) => e.seq);
    assert.deepEqual(seqs, [...seqs].sort((a, b) => a - b));
  });
});
