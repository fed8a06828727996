import { approveRequest } from '../src/operations/approve-request.js';
import { createEngagement } from '../src/operations/create-engagement.js';
import { createIdentity } from '../src/operations/create-identity.js';
import { createRequest } from '../src/operations/create-request.js';
import type { World } from '../test/support/world.js';
import { measure } from './report.js';

let batch = 0;

/** Files `n` requests for `n` contractors (untimed), then times both approval stages of all of them. */
export const benchApprovals = async (w: World, backend: string, n: number, runs: number) => {
  let ids: string[] = [];
  const prepare = async () => {
    batch += 1;
    const ada = await w.as('ada');
    ids = [];
    for (let i = 0; i < n; i += 1) {
      const handle = `bench-${batch}-${i}`;
      await createIdentity(ada, { handle, displayName: handle, kind: 'contractor', sponsor: 'sam' });
      await createEngagement(ada, { identity: handle, vendor: 'Acme Integrators', businessFunction: 'Finance', purpose: 'bench',
        pattern: 'analyst', endsAt: new Date(w.clock.now().getTime() + 30 * 86_400_000).toISOString(), dataSensitivity: 'internal', scope: ['payments'] });
      ids.push((await createRequest(await w.as(handle), { entitlement: 'payments/read', justification: 'bench', duration: '1d' })).id);
    }
  };
  const sam = await w.as('sam');
  const olivia = await w.as('olivia');
  return measure('approve requests (2 stages each)', backend, n, runs, prepare, async () => {
    for (const id of ids) {
      await approveRequest(sam, { request: id });
      await approveRequest(olivia, { request: id });
    }
  });
};
