import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { parse, stringify } from 'yaml';
import { loadHttpConfig } from '../src/config.js';
import { startServer, type RunningServer } from '../src/http/server.js';
import type { PassResult } from '../src/jobs/pass.js';
import { createToken } from '../src/operations/create-token.js';
import { createWebhook } from '../src/operations/create-webhook.js';
import { listProvisioningJobs } from '../src/operations/list-provisioning-jobs.js';
import { loadWebhookKeyRing } from '../src/webhooks/index.js';
import { freshStore } from './support/backends.js';
import { serverCli } from './support/cli-process.js';
import { grantThrough } from './support/flows.js';
import { applyPolicyText } from './support/provisioning-world.js';
import { startReceiver, type Receiver } from './support/webhook-receiver.js';
import { buildWorld, LIFECYCLE_POLICY, type World } from './support/world.js';

/** The lifecycle policy with crm behind a manual connector: provisioning a crm grant opens a task. */
const manualCrmPolicy = (): string => {
  const doc = parse(readFileSync(LIFECYCLE_POLICY, 'utf8')) as { systems: { crm: { connector?: unknown } } };
  doc.systems.crm.connector = { type: 'manual', provision_due: '2d', removal_due: '1d' };
  return stringify(doc);
};

describe('one worker pass over the server (worker --once --server, POST /v1/lifecycle/run)', () => {
  let world: World;
  let server: RunningServer;
  let rx: Receiver;
  const cli = serverCli(() => server.url);
  const tokenOf = async (handle: string) => (await createToken(await world.as(handle), { name: `pass-${handle}`, scopes: ['read', 'write'] })).secret;

  before(async () => {
    world = await buildWorld(await freshStore('embedded'));
    await applyPolicyText(world, manualCrmPolicy());
    rx = await startReceiver();
    const key = loadWebhookKeyRing({ env: { TENURE_WEBHOOK_KEY: randomBytes(32).toString('base64') }, dataDir: '/nonexistent', create: false });
    await createWebhook(await world.as('ada'), { url: rx.url, events: ['grant.activated'] }, key);
    server = await startServer({ store: world.store, clock: world.clock, http: { ...loadHttpConfig({}), port: 0 }, webhookKey: () => key });
  });
  after(async () => {
    await server?.close();
    await rx?.close();
    await world?.store.close();
  });

  it('one server-mode pass provisions a queued job and delivers a due webhook, not only the lifecycle step', async () => {
    const grant = await grantThrough(world, 'eve', { entitlement: 'crm/read', justification: 'pipeline review', duration: '1d' }, ['sam', 'tom']);
    const jobs = async () => (await listProvisioningJobs(await world.as('ivan'), { grant })).map((j) => j.state);
    assert.deepEqual(await jobs(), ['queued'], 'the grant wrote its job and nothing has run it yet');

    const run = await cli(await tokenOf('ivan'), '--json', 'worker', '--once');
    assert.equal(run.code, 0, run.err);
    const pass = JSON.parse(run.out) as PassResult;
    assert.equal(pass.provisioning.tasksOpened, 1, 'the provisioning step ran');
    assert.deepEqual(await jobs(), ['awaiting_confirmation']);
    assert.equal(pass.webhooks.delivered, 1, 'the webhook step ran');
    assert.deepEqual(rx.hits.map((h) => (JSON.parse(h.body) as { type: string }).type), ['grant.activated']);
    for (const step of ['hr', 'reviews', 'reconciliation', 'credentialFindings', 'housekeeping'] as const) assert.ok(pass[step], `${step} is reported`);
    assert.equal(pass.grantsExpired, 0, 'the lifecycle counters stay where they were');
  });

  it('a caller without worker.run cannot run a pass over the server', async () => {
    const run = await cli(await tokenOf('carl'), '--json', 'worker', '--once');
    assert.notEqual(run.code, 0);
    assert.match(run.err, /may not worker\.run/);
  });
});
