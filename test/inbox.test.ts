import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createRequest } from '../src/operations/create-request.js';
import { listRequests } from '../src/operations/list-requests.js';
import { freshStore } from './support/backends.js';
import { buildWorld, type World } from './support/world.js';

describe('the inbox is chosen, ordered and limited in the database', () => {
  let w: World;
  before(async () => { w = await buildWorld(await freshStore('embedded')); });
  after(async () => { await w?.store.close(); });

  it('an approver sees the oldest requests waiting on them first, no more than the limit', async () => {
    const asked: string[] = [];
    for (const entitlement of ['payments/approve', 'payments/read', 'payments/initiate']) {
      asked.push((await createRequest(await w.as('carl'), { entitlement, justification: 'month end', ticket: 'FIN-9', duration: '1d' })).id);
      w.clock.advance(60_000);
    }
    const inbox = async (limit?: number) => (await listRequests(await w.as('sam'), { view: 'inbox', limit })).map((r) => r.id);
    assert.deepEqual(await inbox(), asked);
    assert.deepEqual(await inbox(2), asked.slice(0, 2));
    assert.deepEqual(await listRequests(await w.as('carl'), { view: 'inbox' }), [], 'a requester waits on no one of their own');
  });
});
