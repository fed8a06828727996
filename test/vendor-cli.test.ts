import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { loadHttpConfig } from '../src/config.js';
import { startServer, type RunningServer } from '../src/http/server.js';
import { createToken } from '../src/operations/create-token.js';
import { freshStore } from './support/backends.js';
import { serverCli } from './support/cli-process.js';
import { buildWorld, DAY, type World } from './support/world.js';

const BIN = fileURLToPath(new URL('../bin/tenure.mjs', import.meta.url));

/** `tenure vendor …` as a newcomer runs it: real processes on a real embedded data directory loaded with the demo. */
describe('tenure vendor on the command line', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'tenure-vendor-cli-'));
  const env = { ...process.env, TENURE_DATA_DIR: dataDir, DATABASE_URL: '', TENURE_ACTOR: '' };
  const tenure = (...args: string[]) => {
    const r = spawnSync(process.execPath, [BIN, ...args], { env, encoding: 'utf8', timeout: 120_000 });
    return { code: r.status, out: r.stdout, err: r.stderr, json: <T>() => JSON.parse(r.stdout) as T };
  };
  const yesterday = new Date(Date.now() - 86_400_000).toISOString();

  before(() => {
    const demo = tenure('demo');
    assert.equal(demo.code, 0, demo.err);
  });

  it('the relationship owner sees the vendor page; a contractor of the vendor is told it does not exist', () => {
    const shown = tenure('--as', 'sam', '--json', 'vendor', 'show', 'Acme Integrators');
    assert.equal(shown.code, 0, shown.err);
    const page = shown.json<{ relationshipOwner: string; people: { handle: string }[] }>();
    assert.deepEqual([page.relationshipOwner, page.people.map((p) => p.handle)], ['sam', ['carl']]);
    const outsider = tenure('--as', 'carl', 'vendor', 'set-end', 'Acme Integrators', '--end', yesterday, '--reason', 'mine to end');
    assert.equal(outsider.code, 4, 'not found');
    assert.match(outsider.err, /vendor\.not_found/);
  });

  it('an end beyond the ten-year cap exits 3 naming contractEnd', () => {
    const far = tenure('--as', 'sam', 'vendor', 'set-end', 'Acme Integrators', '--end', '2099-01-01', '--reason', 'forever');
    assert.equal(far.code, 3, far.err);
    assert.match(far.err, /vendor\.invalid_contract_end/);
    assert.match(far.err, /contractEnd/);
  });

  it('IAM ends a contract as of yesterday: its engagement ends at once, the list and evidence pack show it', () => {
    const ended = tenure('--as', 'ivan', '--json', 'vendor', 'set-end', 'Northwind Support', '--end', yesterday, '--reason', 'wound up');
    assert.equal(ended.code, 0, ended.err);
    assert.deepEqual(ended.json<{ ended: boolean; engagementsEnded: number }>(), { ...ended.json<object>(), ended: true, engagementsEnded: 1 });
    const listed = tenure('--as', 'audrey', '--json', 'vendor', 'list').json<{ name: string; endAppliedAt: string | null }[]>();
    assert.ok(listed.find((v) => v.name === 'Northwind Support')!.endAppliedAt);
    const out = join(dataDir, 'northwind.html');
    const pack = tenure('--as', 'audrey', 'vendor', 'evidence', 'Northwind Support', '--html', '--out', out);
    assert.equal(pack.code, 0, pack.err);
    assert.ok(existsSync(out));
    assert.match(readFileSync(out, 'utf8'), /vendor\.contract_ended/);
  });
});

/** The same commands against a running server (--server, TENURE_TOKEN): the remote API maps each to its route. */
describe('tenure vendor in server mode', () => {
  let world: World;
  let server: RunningServer;
  const tokens = new Map<string, string>();
  const cli = serverCli(() => server.url);
  const as = (handle: string, ...args: string[]) => cli(tokens.get(handle)!, ...args);

  before(async () => {
    world = await buildWorld(await freshStore('embedded'));
    server = await startServer({ store: world.store, clock: world.clock, http: { ...loadHttpConfig({}), port: 0 } });
    for (const handle of ['sam', 'audrey', 'eve', 'ivan', 'tom']) {
      tokens.set(handle, (await createToken(await world.as(handle), { name: `cli-${handle}`, scopes: ['read', 'write'] })).secret);
    }
  });
  after(async () => {
    await server?.close();
    await world?.store.close();
  });

  it('list, show, set-end and evidence go through the API; an outsider exits 4', async () => {
    const listed = await as('audrey', '--json', 'vendor', 'list');
    assert.equal(listed.code, 0, listed.err);
    assert.deepEqual((JSON.parse(listed.out) as { name: string }[]).map((v) => v.name), ['Acme Integrators']);
    const shown = await as('sam', '--json', 'vendor', 'show', 'Acme Integrators');
    assert.equal(shown.code, 0, shown.err);
    assert.equal((JSON.parse(shown.out) as { engagements: unknown[] }).engagements.length, 1);
    const end = new Date(world.clock.now().getTime() + 30 * DAY).toISOString();
    const moved = await as('sam', '--json', 'vendor', 'set-end', 'Acme Integrators', '--end', end, '--reason', 'shortened');
    assert.equal(moved.code, 0, moved.err);
    assert.equal((JSON.parse(moved.out) as { engagementsShortened: number }).engagementsShortened, 1);
    const pack = await as('audrey', 'vendor', 'evidence', 'Acme Integrators', '--from', '2029-01-01');
    assert.equal(pack.code, 0, pack.err);
    assert.ok((JSON.parse(pack.out) as { timeline: { action: string }[] }).timeline.some((e) => e.action === 'vendor.contract_end_changed'));
    const outsider = await as('eve', 'vendor', 'show', 'Acme Integrators');
    assert.equal(outsider.code, 4, outsider.err);
  });

  it("identity create --vendor makes a service account the vendor's to end; set-operator takes it out: --none, no choice exits 2, its owner exits 3", async () => {
    const created = await as('ivan', 'identity', 'create', '--handle', 'acme-sync', '--name', 'Acme sync', '--kind', 'service_account',
      '--owner', 'tom', '--vendor', 'Acme Integrators');
    assert.equal(created.code, 0, created.err);
    const yesterday = new Date(world.clock.now().getTime() - DAY).toISOString();
    const ended = await as('ivan', '--json', 'vendor', 'set-end', 'Acme Integrators', '--end', yesterday, '--reason', 'wound up');
    assert.equal((JSON.parse(ended.out) as { accountsSuspended: number }).accountsSuspended, 1, ended.err);
    const neither = await as('ivan', 'identity', 'set-operator', 'acme-sync', '--reason', 'in-house');
    assert.equal(neither.code, 2, neither.err);
    assert.match(neither.err, /--vendor NAME or --none/);
    const own = await as('tom', 'identity', 'set-operator', 'acme-sync', '--none', '--reason', 'mine');
    assert.equal(own.code, 3, own.err);
    assert.match(own.err, /identity\.operator_self_forbidden/);
    const moved = await as('ivan', '--json', 'identity', 'set-operator', 'acme-sync', '--none', '--reason', 'run in-house');
    assert.equal(moved.code, 0, moved.err);
    assert.deepEqual(JSON.parse(moved.out), { ...JSON.parse(moved.out), operator: null, previousOperator: 'Acme Integrators', changed: true });
  });
});
