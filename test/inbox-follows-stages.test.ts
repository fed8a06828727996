import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { runLifecycleTick } from '../src/jobs/lifecycle.js';
import { applyPolicy } from '../src/operations/apply-policy.js';
import { approveRequest } from '../src/operations/approve-request.js';
import { cancelRequest } from '../src/operations/cancel-request.js';
import { createRequest } from '../src/operations/create-request.js';
import { denyRequest } from '../src/operations/deny-request.js';
import { listRequests } from '../src/operations/list-requests.js';
import { reassignOwnership } from '../src/operations/reassign-ownership.js';
import { BACKENDS, freshStore } from './support/backends.js';
import { buildWorld, DAY, LIFECYCLE_POLICY, type World } from './support/world.js';

/**
 * The inbox reads a table the database keeps beside the stages (migration 0016); every path that
 * moves a request along or changes who decides it must leave the inbox showing what the rules say.
 */
for (const backend of BACKENDS) {
  describe(`the inbox follows every change to a request's stages (${backend})`, () => {
    let w: World;
    before(async () => { w = await buildWorld(await freshStore(backend)); });
    after(async () => { await w?.store.close(); });

    const inbox = async (handle: string) => (await listRequests(await w.as(handle), { view: 'inbox' })).map((r) => r.id);
    const ask = async (handle: string, entitlement: string, duration = '1d') =>
      (await createRequest(await w.as(handle), { entitlement, justification: 'inbox paths', duration })).id;
    const approve = async (handle: string, request: string) => approveRequest(await w.as(handle), { request });
    const waitsOn = async (request: string, handles: string[], notOn: string[]) => {
      for (const h of handles) assert.ok((await inbox(h)).includes(request), `${h} should see it`);
      for (const h of notOn) assert.ok(!(await inbox(h)).includes(request), `${h} should not see it`);
    };

    it('a new request waits on its first stage\'s approvers only, never on its requester, beneficiary or a later stage', async () => {
      const request = await ask('eve', 'payments/read');
      await waitsOn(request, ['sam'], ['eve', 'olivia', 'tom', 'selma']);
    });

    it('approving a stage moves the request to the next stage\'s approvers and out of the decider\'s inbox', async () => {
      const request = await ask('eve', 'payments/approve');
      await approve('sam', request);
      await waitsOn(request, ['olivia', 'tom'], ['sam', 'eve']);
    });

    it('a stage routed to its alternates waits on them too, and the one who decided it sees no later stage', async () => {
      // Sam sponsors Eve and owns the lab: the sponsor stage is widened to security's Selma.
      const request = await ask('eve', 'lab/use');
      await waitsOn(request, ['sam', 'selma'], ['eve']);
      await approve('selma', request);
      await waitsOn(request, ['sam'], ['selma']);
    });

    it('a denied request leaves every inbox', async () => {
      const request = await ask('eve', 'payments/initiate');
      await approve('sam', request);
      await denyRequest(await w.as('olivia'), { request, reason: 'not this quarter' });
      await waitsOn(request, [], ['olivia', 'tom', 'sam']);
    });

    it('a cancelled request leaves every inbox', async () => {
      const request = await ask('carl', 'payments/initiate');
      await waitsOn(request, ['sam'], []);
      await cancelRequest(await w.as('carl'), { request, reason: 'asked by mistake' });
      await waitsOn(request, [], ['sam']);
    });

    it('applying a policy that changes a system\'s owners moves its owner stage to them, never to the beneficiary', async () => {
      const request = await ask('eve', 'crm/read');
      await approve('sam', request);
      await waitsOn(request, ['olivia', 'tom'], ['audrey']);
      const policy = readFileSync(LIFECYCLE_POLICY, 'utf8')
        .replace('    name: Customer records\n    business_owner: olivia\n    technical_owner: tom', '    name: Customer records\n    business_owner: eve\n    technical_owner: audrey');
      await applyPolicy(await w.as('ada'), { files: [{ name: 'policy.yaml', content: policy }] });
      await waitsOn(request, ['audrey'], ['olivia', 'tom', 'eve']);
      await approve('audrey', request);
    });

    it('re-assigning a sponsor\'s people moves their requests\' sponsor stage to the new sponsor, who can decide it', async () => {
      const request = await ask('carl', 'payments/read');
      await waitsOn(request, ['sam'], ['audrey']);
      await reassignOwnership(await w.as('ivan'), { from: 'sam', to: 'audrey', reason: 'sam moves to another team' });
      await waitsOn(request, ['audrey'], ['sam']);
      await approve('audrey', request);
      await waitsOn(request, ['olivia', 'tom'], ['audrey']);
    });

    it('an expired request leaves every inbox once the worker has expired it', async () => {
      const request = await ask('eve', 'payments/admin', '2h');
      await waitsOn(request, ['sam'], []);
      w.clock.advance(8 * DAY);
      await runLifecycleTick(w.worker);
      await waitsOn(request, [], ['sam', 'olivia', 'tom', 'selma', 'audrey']);
    });
  });
}
