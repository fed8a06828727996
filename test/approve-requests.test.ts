import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { loadHttpConfig } from '../src/config.js';
import { startServer, type RunningServer } from '../src/http/server.js';
import { approveRequests } from '../src/operations/approve-requests.js';
import { createRequest } from '../src/operations/create-request.js';
import { createToken } from '../src/operations/create-token.js';
import { showRequest } from '../src/operations/list-requests.js';
import { freshStore } from './support/backends.js';
import { serverCli } from './support/cli-process.js';
import { buildWorld, type World } from './support/world.js';

describe('bulk approval as one operation, for the console and the command line alike', () => {
  let world: World;
  let server: RunningServer;
  const cli = serverCli(() => server.url);
  const asks = async (handle: string, entitlement: string) =>
    (await createRequest(await world.as(handle), { entitlement, justification: 'quarter close', ticket: 'FIN-1', duration: '1d' })).id;
  const carlAsks = (entitlement: string) => asks('carl', entitlement);
  const samAsks = (entitlement: string) => asks('sam', entitlement);

  before(async () => {
    world = await buildWorld(await freshStore('embedded'));
    server = await startServer({ store: world.store, clock: world.clock, http: { ...loadHttpConfig({}), port: 0 } });
  });
  after(async () => {
    await server?.close();
    await world?.store.close();
  });

  it('each request is decided alone: a refused one is reported with its reason and the others are still approved', async () => {
    const first = await carlAsks('payments/read');
    const mine = await samAsks('crm/read');
    const unknown = randomUUID();
    const { results } = await approveRequests(await world.as('sam'), { requests: [first, mine, unknown], comment: 'month end' });
    assert.deepEqual(results.map((r) => r.request), [first, mine, unknown], 'one result per request, in the order asked');
    assert.equal(results[0]!.outcome?.nextStage, 'system_owner');
    assert.equal(results[0]!.refusal, null);
    assert.equal(results[1]!.outcome, null);
    assert.match(results[1]!.refusal!.code, /^request\./, 'your own request is refused by the rules of one approval');
    assert.equal(results[2]!.refusal?.code, 'request.not_found');
    const approved = await showRequest(await world.as('sam'), first);
    assert.equal(approved.stages[0]!.comment, 'month end', 'the comment is the stage decision\'s');
  });

  it('tenure approve with several ids approves each, prints one row a request and exits 3 when any was refused', async () => {
    const token = (await createToken(await world.as('sam'), { name: 'bulk-cli', scopes: ['read', 'write'] })).secret;
    const [a, b] = [await carlAsks('payments/initiate'), await carlAsks('crm/read')];
    const clean = await cli(token, '--json', 'request', 'approve', a, b);
    assert.equal(clean.code, 0, clean.err);
    const rows = JSON.parse(clean.out) as { request: string; outcome: { status: string } | null; problem: unknown }[];
    assert.deepEqual(rows.map((r) => [r.request, r.outcome?.status, r.problem]), [[a, 'pending', null], [b, 'pending', null]]);

    const mine = await samAsks('payments/read');
    const mixed = await cli(token, 'approve', await carlAsks('payments/approve'), mine);
    assert.equal(mixed.code, 3, 'a script notices that not everything was approved');
    assert.match(mixed.out, /pending/);
    assert.match(mixed.out, new RegExp(`${mine}.*refused.*request\\.`, 's'));
  });

  it('one id keeps the single approval, and --stage with several ids is refused before anything is decided', async () => {
    const token = (await createToken(await world.as('sam'), { name: 'single-cli', scopes: ['read', 'write'] })).secret;
    const [a, b] = [await asks('eve', 'payments/read'), await asks('eve', 'crm/read')];
    const refused = await cli(token, 'approve', a, b, '--stage', '0');
    assert.equal(refused.code, 2, refused.err);
    assert.match(refused.err, /input\.invalid.*stage/);
    assert.equal((await showRequest(await world.as('sam'), a)).stages[0]!.status, 'pending');
    const single = await cli(token, '--json', 'approve', a, '--stage', '0');
    assert.equal(single.code, 0, single.err);
    assert.equal((JSON.parse(single.out) as { id: string }).id, a);
  });
});
