import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { freshStore } from './support/backends.js';
import { startService, type Service } from './support/service.js';

/**
 * Whoever is asked to approve sees what they need to decide: the beneficiary's current grants and
 * engagement, only while the request waits for them. The same lists stay closed to everyone else.
 */
describe('what an approver may read about the beneficiary', () => {
  let s: Service;
  let request: string;
  const grantsOfCarl = (as: string) => s.call('GET', '/v1/grants?identity=carl&status=live', { as });
  const engagementsOfCarl = (as: string) => s.call('GET', '/v1/engagements?identity=carl&status=active', { as });
  const engagement = (as: string) => s.call('GET', `/v1/engagements/${s.world.engagementId}`, { as });

  before(async () => {
    s = await startService(await freshStore('embedded'));
    const asked = await s.call('POST', '/v1/requests', { as: 'carl', body: { entitlement: 'payments/read', justification: 'reconcile', duration: '1d' } });
    assert.equal(asked.statusCode, 201, asked.body);
    request = asked.json().id;
  });
  after(async () => { await s.app.close(); await s.world.store.close(); });

  it('the system owner may not read the beneficiary\'s grants or engagement before the request reaches her stage', async () => {
    assert.equal((await grantsOfCarl('olivia')).statusCode, 403);
    assert.equal((await engagementsOfCarl('olivia')).statusCode, 403);
    assert.equal((await engagement('olivia')).statusCode, 404);
  });

  it('once the request waits for her, she reads his current grants and his engagement', async () => {
    assert.equal((await s.call('POST', `/v1/requests/${request}/approve`, { as: 'sam', body: {} })).statusCode, 200);
    const grants = await grantsOfCarl('olivia');
    assert.equal(grants.statusCode, 200, grants.body);
    assert.ok((grants.json().items as { identity: string }[]).every((g) => g.identity === 'carl'));
    const engagements = await engagementsOfCarl('olivia');
    assert.equal(engagements.statusCode, 200, engagements.body);
    assert.deepEqual((engagements.json().items as { id: string }[]).map((e) => e.id), [s.world.engagementId]);
    assert.equal((await engagement('olivia')).statusCode, 200);
  });

  it('someone who is not asked to decide is still refused the same lists', async () => {
    for (const stranger of ['eve', 'vera']) {
      assert.equal((await grantsOfCarl(stranger)).statusCode, 403, stranger);
      assert.equal((await engagementsOfCarl(stranger)).statusCode, 403, stranger);
      assert.equal((await engagement(stranger)).statusCode, 404, stranger);
    }
  });

  it('once she has decided, the view closes again', async () => {
    assert.equal((await s.call('POST', `/v1/requests/${request}/approve`, { as: 'olivia', body: {} })).statusCode, 200);
    assert.equal((await grantsOfCarl('olivia')).statusCode, 403);
    assert.equal((await engagementsOfCarl('olivia')).statusCode, 403);
    assert.equal((await engagement('olivia')).statusCode, 404);
  });
});
