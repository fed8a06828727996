/**
 * Approvals through the use case: both stages of each request one at a time, the same with several
 * approvers at once, and a bulk approval (one call) of a whole batch, beside an empty transaction as
 * the floor from the same run. Rates are stage decisions per second.
 */
import { sql } from 'drizzle-orm';
import { approveRequest } from '../src/operations/approve-request.js';
import { approveRequests } from '../src/operations/approve-requests.js';
import { createEngagement } from '../src/operations/create-engagement.js';
import { createIdentity } from '../src/operations/create-identity.js';
import { createRequest } from '../src/operations/create-request.js';
import { inTransaction } from '../src/work/context.js';
import type { World } from '../test/support/world.js';
import { measure, type BenchResult } from './report.js';

let batch = 0;

/** Files `n` requests for `n` new contractors (untimed); returns their ids. */
const fileRequests = async (w: World, n: number): Promise<string[]> => {
  batch += 1;
  const ada = await w.as('ada');
  const ids: string[] = [];
  for (let i = 0; i < n; i += 1) {
    const handle = `bench-${batch}-${i}`;
    await createIdentity(ada, { handle, displayName: handle, kind: 'contractor', sponsor: 'sam' });
    await createEngagement(ada, { identity: handle, vendor: 'Acme Integrators', businessFunction: 'Finance', purpose: 'bench',
      pattern: 'analyst', endsAt: new Date(w.clock.now().getTime() + 30 * 86_400_000).toISOString(), dataSensitivity: 'internal', scope: ['payments'] });
    ids.push((await createRequest(await w.as(handle), { entitlement: 'payments/read', justification: 'bench', duration: '1d' })).id);
  }
  return ids;
};

/** Runs `fn` over `items` with `lanes` of them under way at once. */
const inLanes = async <T>(items: readonly T[], lanes: number, fn: (item: T) => Promise<unknown>) => {
  const queue = [...items];
  await Promise.all(Array.from({ length: lanes }, async () => {
    for (let item = queue.shift(); item !== undefined; item = queue.shift()) await fn(item);
  }));
};

export const benchApprovals = async (w: World, backend: string, sizes: { requests: number; bulk: number; lanes: number }, runs: number): Promise<BenchResult[]> => {
  const [sam, olivia] = [await w.as('sam'), await w.as('olivia')];
  let ids: string[] = [];
  const prepare = (n: number) => async () => { ids = await fileRequests(w, n); };
  const bothStages = async (id: string) => {
    await approveRequest(sam, { request: id });
    await approveRequest(olivia, { request: id });
  };
  const checkAllApproved = async (results: { outcome: unknown }[]) => {
    if (results.some((r) => r.outcome === null)) throw new Error('a bulk approval refused a request');
  };
  const decisions = (n: number) => 2 * n;
  const floor = await measure('floor: an empty transaction (one SELECT), one at a time', backend, sizes.requests, runs, async () => undefined, async () => {
    for (let i = 0; i < sizes.requests; i += 1) await inTransaction(sam, async (work) => work.tx.execute(sql`SELECT 1`));
  });
  const results = [
    await measure('approve, one at a time (stage decisions)', backend, decisions(sizes.requests), runs, prepare(sizes.requests), async () => {
      for (const id of ids) await bothStages(id);
    }, '≥ 500/s'),
    await measure(`approve, ${sizes.lanes} requests at once (stage decisions)`, backend, decisions(sizes.requests), runs, prepare(sizes.requests),
      () => inLanes(ids, sizes.lanes, bothStages), '≥ 500/s'),
    await measure(`bulk approval of ${sizes.bulk.toLocaleString('en-US')} requests, both stages (two calls; stage decisions)`, backend,
      decisions(sizes.bulk), runs, prepare(sizes.bulk), async () => {
        await checkAllApproved((await approveRequests(sam, { requests: ids })).results);
        await checkAllApproved((await approveRequests(olivia, { requests: ids })).results);
      }, `each call ≤ 3 s`),
  ];
  const floorRate = floor.perSecond;
  return [floor, ...results.map((r) => ({ ...r, name: `${r.name}; ${(floorRate / r.perSecond).toFixed(1)}× the floor's time` }))];
};
