import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { approveRequests, APPROVALS_AT_ONCE, MAX_BULK_APPROVALS } from '../src/operations/approve-requests.js';
import { createIdentity } from '../src/operations/create-identity.js';
import { createRequest } from '../src/operations/create-request.js';
import { showRequest } from '../src/operations/list-requests.js';
import { BACKENDS, freshStore } from './support/backends.js';
import { refusedWith } from './support/assert.js';
import { buildWorld, type World } from './support/world.js';

for (const backend of BACKENDS) {
  describe(`a bulk approval decides several requests at once and answers as if one at a time (${backend})`, () => {
    let w: World;
    before(async () => { w = await buildWorld(await freshStore(backend, { poolSize: 8 })); });
    after(async () => { await w?.store.close(); });

    /** New employees managed by Sam, each asking for two things: Sam decides the first stage of all of them. */
    const filed = async (prefix: string, people: number) => {
      const ada = await w.as('ada');
      const ids: string[] = [];
      for (let i = 0; i < people; i += 1) {
        const handle = `${prefix}-${i}`;
        await createIdentity(ada, { handle, displayName: handle, kind: 'employee', manager: 'sam' });
        const me = await w.as(handle);
        for (const entitlement of ['payments/read', 'crm/read']) {
          ids.push((await createRequest(me, { entitlement, justification: 'quarter close', ticket: 'FIN-1', duration: '1d' })).id);
        }
      }
      return ids;
    };

    it('every request of a batch larger than the lanes is decided once and reported where it was asked', async () => {
      const ids = await filed('lanes', APPROVALS_AT_ONCE * 3);
      const { results } = await approveRequests(await w.as('sam'), { requests: ids, comment: 'month end' });
      assert.deepEqual(results.map((r) => r.request), ids, 'one result per request, in the order asked');
      assert.deepEqual(results.filter((r) => r.refusal !== null).map((r) => r.refusal!.message), []);
      for (const id of ids) {
        const request = await showRequest(await w.as('sam'), id);
        assert.equal(request.stages[0]!.status, 'approved');
        assert.equal(request.stages[0]!.comment, 'month end');
        assert.equal(request.stages[1]!.status, 'pending', 'the second stage is nobody\'s but its approver\'s');
      }
    });

    it('a request named twice is decided where it first appears and refused where it appears again, every time', async () => {
      for (let round = 0; round < 3; round += 1) {
        const [first, second, third, fourth] = await filed(`twice${round}`, 2);
        const { results } = await approveRequests(await w.as('sam'), { requests: [first!, second!, third!, first!, fourth!, first!] });
        assert.equal(results[0]!.outcome?.status, 'pending', 'the first naming decides the sponsor stage');
        for (const again of [results[3]!, results[5]!]) {
          assert.equal(again.outcome, null);
          assert.equal(again.refusal?.code, 'request.second_stage_forbidden', `a second naming is refused as the next stage's decision: ${again.refusal?.message}`);
        }
        assert.deepEqual([1, 2, 4].map((i) => results[i]!.outcome?.status), ['pending', 'pending', 'pending']);
      }
    });

    it('an unknown id among known ones is refused as not found and the rest are decided', async () => {
      const ids = await filed('unknown', 2);
      const unknown = randomUUID();
      const { results } = await approveRequests(await w.as('sam'), { requests: [unknown, ...ids] });
      assert.equal(results[0]!.refusal?.code, 'request.not_found');
      assert.deepEqual(results.slice(1).map((r) => r.outcome?.status), ids.map(() => 'pending'));
    });

    it(`more than ${MAX_BULK_APPROVALS} requests are refused, naming the field and the rule, before anything is decided`, async () => {
      const [id] = await filed('toomany', 1);
      const requests = [id!, ...Array.from({ length: MAX_BULK_APPROVALS }, () => randomUUID())];
      const refusal = await refusedWith(approveRequests(await w.as('sam'), { requests }), 'input.invalid', 'requests');
      assert.match(refusal.message, /at most 1000 requests/);
      assert.equal((await showRequest(await w.as('sam'), id!)).stages[0]!.status, 'pending');
    });
  });
}
