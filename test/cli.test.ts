import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const BIN = fileURLToPath(new URL('../bin/tenure.mjs', import.meta.url));

/** The CLI as a newcomer runs it: a real process on a real embedded data directory. */
describe('the tenure command line on the embedded database', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'tenure-cli-'));
  const env = { ...process.env, TENURE_DATA_DIR: dataDir, DATABASE_URL: '', TENURE_ACTOR: '' };
  const tenure = (...args: string[]) => {
    const r = spawnSync(process.execPath, [BIN, ...args], { env, encoding: 'utf8', timeout: 120_000 });
    return { code: r.status, out: r.stdout, err: r.stderr, json: () => JSON.parse(r.stdout) as unknown };
  };

  before(() => {
    const demo = tenure('demo');
    assert.equal(demo.code, 0, demo.err);
  });

  it('walks a contractor request through sponsor and owner approval to an active grant', () => {
    const created = tenure('--as', 'carl', '--json', 'request', 'create', '--entitlement', 'payments/read', '--reason', 'reconcile', '--ticket', 'FIN-1', '--duration', '2m');
    assert.equal(created.code, 0, created.err);
    const { id } = created.json() as { id: string };
    assert.equal(tenure('--as', 'sam', 'approve', id, '--comment', 'ok').code, 0);
    const second = tenure('--as', 'sam', '--json', 'approve', id);
    assert.equal(second.code, 3, 'refused by a rule');
    assert.match(second.err, /request\.second_stage_forbidden/);
    const done = tenure('--as', 'olivia', '--json', 'approve', id);
    assert.equal(done.code, 0, done.err);
    const grants = tenure('--as', 'carl', '--json', 'grant', 'list', '--status', 'active').json() as { entitlement: string }[];
    assert.ok(grants.some((g) => g.entitlement === 'payments/read'));
  });

  it('a manual system\'s grant becomes a task the technical owner lists and confirms from the command line', () => {
    const created = tenure('--as', 'carl', '--json', 'request', 'create', '--entitlement', 'payments/approve', '--reason', 'quarter close', '--duration', '1d');
    assert.equal(created.code, 0, created.err);
    const { id } = created.json() as { id: string };
    assert.equal(tenure('--as', 'sam', 'approve', id).code, 0);
    assert.equal(tenure('--as', 'olivia', 'approve', id).code, 0);
    const pass = tenure('--json', 'worker', '--once');
    assert.equal(pass.code, 0, pass.err);
    assert.ok((pass.json() as { provisioning: { tasksOpened: number } }).provisioning.tasksOpened >= 1);
    const tasks = tenure('--as', 'tom', '--json', 'provisioning', 'list', '--state', 'awaiting_confirmation').json() as
      { id: string; identity: string; entitlement: string }[];
    const task = tasks.find((t) => t.identity === 'carl' && t.entitlement === 'payments/approve');
    assert.ok(task, JSON.stringify(tasks));
    assert.equal(tenure('--as', 'carl', 'provisioning', 'confirm', task.id, '--note', 'did it myself').code, 3, 'not the holder');
    const confirmed = tenure('--as', 'tom', '--json', 'provisioning', 'confirm', task.id, '--note', 'role granted by hand');
    assert.equal(confirmed.code, 0, confirmed.err);
    assert.equal((confirmed.json() as { grantProvisioningState: string }).grantProvisioningState, 'provisioned');
    const reconcile = tenure('--as', 'ivan', 'reconcile', 'payments');
    assert.equal(reconcile.code, 3, 'a manual system has nothing to list');
    assert.match(reconcile.err, /reconcile\.no_connector/);
    assert.equal(tenure('--as', 'audrey', '--json', 'findings', 'list', '--status', 'open').code, 0);
  });

  it('an engagement can be found and shortened from the command line, shortening the grants under it', () => {
    const [carl] = tenure('--as', 'ivan', '--json', 'engagement', 'list', '--identity', 'carl').json() as { id: string; endsAt: string }[];
    assert.ok(carl);
    const end = new Date(Date.now() + 60_000).toISOString();
    const r = tenure('--as', 'ivan', '--json', 'engagement', 'set-end', carl.id, '--end', end, '--reason', 'budget cut');
    assert.equal(r.code, 0, r.err);
    const live = tenure('--as', 'carl', '--json', 'grant', 'list', '--status', 'live').json() as { endsAt: string }[];
    assert.ok(live.every((g) => new Date(g.endsAt).getTime() <= new Date(end).getTime()));
    assert.equal(tenure('--as', 'carl', 'engagement', 'list', '--identity', 'vera').code, 3, 'not his to see');
  });

  it('systems, revocation lag and one engagement are read from the command line, each by whom it concerns', () => {
    const systems = tenure('--as', 'olivia', '--json', 'systems');
    assert.equal(systems.code, 0, systems.err);
    const payments = (systems.json() as { key: string; operations: { health: string } | null }[]).find((s) => s.key === 'payments');
    assert.equal(payments?.operations?.health !== undefined, true, 'olivia owns payments: she sees its connector');
    const table = tenure('--as', 'carl', 'systems');
    assert.equal(table.code, 0, table.err);
    assert.match(table.out, /payments/);
    const lag = tenure('--as', 'audrey', '--json', 'revocation-lag', '--days', '7');
    assert.equal(lag.code, 0, lag.err);
    assert.equal((lag.json() as { byDay: unknown[] }).byDay.length, 7);
    const refused = tenure('--as', 'carl', 'revocation-lag');
    assert.equal(refused.code, 3);
    assert.match(refused.err, /actor\.forbidden/);
    const [engagement] = tenure('--as', 'sam', '--json', 'engagement', 'list', '--identity', 'carl').json() as { id: string }[];
    const shown = tenure('--as', 'sam', '--json', 'engagement', 'show', engagement!.id);
    assert.equal(shown.code, 0, shown.err);
    assert.ok((shown.json() as { grants: { entitlement: string }[] }).grants.some((g) => g.entitlement === 'payments/read'));
    assert.equal(tenure('--as', 'vera', 'engagement', 'show', engagement!.id).code, 4, 'not found for someone unrelated');
  });

  it('init refuses a database that already has people', () => {
    const r = tenure('init', '--handle', 'mallory', '--name', 'Mallory');
    assert.equal(r.code, 3);
    assert.match(r.err, /setup\.already_initialised/);
  });

  it('every command records the channel and the operating-system user in the audit log', () => {
    const events = tenure('--as', 'audrey', '--json', 'audit', 'search', '--action', 'request.created').json() as { events: { actor: { channel: string; osUser?: string } }[] };
    assert.ok(events.events.length > 0);
    for (const e of events.events) {
      assert.equal(e.actor.channel, 'cli');
      assert.ok(e.actor.osUser, 'the OS user is recorded');
    }
  });

  it('audit verify passes on the untouched chain and says so as JSON', () => {
    const r = tenure('--as', 'audrey', '--json', 'audit', 'verify');
    assert.equal(r.code, 0, r.err);
    const result = r.json() as { ok: boolean; events: number; firstBadSeq: number | null };
    assert.equal(result.ok, true);
    assert.equal(result.firstBadSeq, null);
    assert.ok(result.events > 20);
  });

  it('exit codes mean the same everywhere: usage 2, rule 3, not found 4', () => {
    assert.equal(tenure('request', 'create', '--bogus').code, 2);
    assert.equal(tenure('--as', 'carl', 'request', 'create', '--entitlement', 'payments/read', '--reason', 'x', '--duration', 'forever').code, 2);
    assert.equal(tenure('--as', 'carl', 'request', 'create', '--entitlement', 'payments/admin', '--reason', 'x', '--duration', '9h').code, 3);
    assert.equal(tenure('--as', 'carl', 'request', 'create', '--entitlement', 'nope/none', '--reason', 'x', '--duration', '1h').code, 4);
    const noActor = tenure('grant', 'list');
    assert.equal(noActor.code, 2);
    assert.match(noActor.err, /actor\.required/);
  });

  it('proxy-session list answers the sessions the actor may read, and show refuses an unknown or malformed id', () => {
    const listed = tenure('--as', 'audrey', '--json', 'proxy-session', 'list', '--state', 'ended');
    assert.equal(listed.code, 0, listed.err);
    assert.ok(Array.isArray(listed.json()));
    const unknown = tenure('--as', 'audrey', 'proxy-session', 'show', '00000000-0000-4000-8000-000000000000');
    assert.equal(unknown.code, 4);
    assert.match(unknown.err, /proxy_session\.not_found/);
    assert.equal(tenure('--as', 'audrey', 'proxy-session', 'list', '--state', 'closed').code, 2);
  });

  describe('while another process holds the data directory', () => {
    let holder: ReturnType<typeof spawn>;
    before(async () => {
      holder = spawn(process.execPath, [BIN, 'serve'], { env: { ...env, TENURE_WORKER_INTERVAL_MS: '60000' }, stdio: ['ignore', 'ignore', 'pipe'] });
      await new Promise<void>((resolve, reject) => {
        holder.stderr!.on('data', (chunk: Buffer) => { if (chunk.toString().includes('serving')) resolve(); });
        holder.on('exit', (code) => reject(new Error(`serve exited early with ${code}`)));
      });
    });
    after(async () => {
      const exited = new Promise((resolve) => holder.on('exit', resolve));
      holder.kill('SIGTERM');
      await exited;
    });

    it('a second process refuses with exit code 5 and names the holder', () => {
      const r = tenure('--as', 'ada', 'identity', 'list');
      assert.equal(r.code, 5);
      assert.match(r.err, new RegExp(`held by process ${holder.pid}`));
    });
  });

  it('after the holder stops on SIGTERM the database opens again, intact', () => {
    const r = tenure('--as', 'ada', '--json', 'identity', 'list');
    assert.equal(r.code, 0, r.err);
    assert.ok((r.json() as { handle: string }[]).some((i) => i.handle === 'carl'));
  });
});
