import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { loadHttpConfig } from '../src/config.js';
import { TenureError } from '../src/domain/errors.js';
import { randomBytes } from 'node:crypto';
import { startServer, type RunningServer } from '../src/http/server.js';
import { loadWebhookKeyRing, type WebhookKeyRing } from '../src/webhooks/index.js';
import { approveRequest } from '../src/operations/approve-request.js';
import { createRequest } from '../src/operations/create-request.js';
import { createToken } from '../src/operations/create-token.js';
import { freshStore } from './support/backends.js';
import { buildWorld, LIFECYCLE_POLICY, type World } from './support/world.js';

const BIN = fileURLToPath(new URL('../bin/tenure.mjs', import.meta.url));

interface Result { code: number | null; out: string; err: string; json: <T>() => T }

/**
 * The CLI as an operator runs it against a service: a real child process calling a real server over
 * HTTP. The server lives in this process, so the child is spawned asynchronously to keep it answering.
 */
describe('the tenure command line in server mode (--server URL, token from TENURE_TOKEN)', () => {
  let world: World;
  let server: RunningServer;
  const tokens = new Map<string, string>();
  // Server mode must never open a database here: this directory is checked to stay absent.
  const dataDir = join(mkdtempSync(join(tmpdir(), 'tenure-cli-server-')), 'never-created');

  const cli = (options: { token?: string; server?: string }, ...args: string[]) => new Promise<Result>((resolve, reject) => {
    const env = { ...process.env, TENURE_DATA_DIR: dataDir, DATABASE_URL: '', TENURE_ACTOR: '', TENURE_SERVER: '', TENURE_TOKEN: options.token ?? '' };
    const child = spawn(process.execPath, [BIN, '--server', options.server ?? server.url, ...args], { env, timeout: 120_000 });
    let out = '';
    let err = '';
    child.stdout.on('data', (chunk: Buffer) => { out += chunk.toString(); });
    child.stderr.on('data', (chunk: Buffer) => { err += chunk.toString(); });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, out, err, json: <T>() => JSON.parse(out) as T }));
  });
  let webhookKey: WebhookKeyRing | undefined;
  /** The CLI as `handle`, through that identity's token. */
  const as = (handle: string, ...args: string[]) => cli({ token: tokens.get(handle)! }, ...args);

  before(async () => {
    const store = await freshStore('embedded');
    world = await buildWorld(store);
    webhookKey = loadWebhookKeyRing({ env: { TENURE_WEBHOOK_KEY: randomBytes(32).toString('base64') }, dataDir: '/nonexistent', create: false });
    server = await startServer({ store, clock: world.clock, http: { ...loadHttpConfig({}), port: 0 }, webhookKey: () => webhookKey });
    for (const handle of ['ada', 'carl', 'sam', 'olivia', 'audrey']) {
      tokens.set(handle, (await createToken(await world.as(handle), { name: `cli-${handle}`, scopes: ['read', 'write'] })).secret);
    }
  });
  after(async () => {
    await server?.close();
    await world?.store.close();
  });

  it("a contractor's request made over the server reaches the sponsor's inbox, and both approvals give a grant", async () => {
    const created = await as('carl', '--json', 'request', 'create', '--entitlement', 'payments/read', '--reason', 'reconcile', '--ticket', 'FIN-1', '--duration', '2h');
    assert.equal(created.code, 0, created.err);
    const { id } = created.json<{ id: string }>();
    const inbox = await as('sam', '--json', 'request', 'list', '--inbox');
    assert.equal(inbox.code, 0, inbox.err);
    assert.ok(inbox.json<{ id: string }[]>().some((r) => r.id === id), 'the sponsor sees it');
    const first = await as('sam', 'approve', id, '--comment', 'needed for the migration');
    assert.equal(first.code, 0, first.err);
    const second = await as('olivia', '--json', 'approve', id);
    assert.equal(second.code, 0, second.err);
    const grants = await as('carl', '--json', 'grant', 'list', '--status', 'active');
    assert.equal(grants.code, 0, grants.err);
    assert.ok(grants.json<{ entitlement: string }[]>().some((g) => g.entitlement === 'payments/read'));
    const table = await as('carl', 'grant', 'list');
    assert.match(table.out, /payments\/read/);
  });

  it('systems and revocation lag come over the server as they do locally', async () => {
    const systems = await as('olivia', '--json', 'systems');
    assert.equal(systems.code, 0, systems.err);
    assert.deepEqual(systems.json<{ key: string }[]>().map((s) => s.key), ['crm', 'lab', 'payments']);
    const lag = await as('audrey', '--json', 'revocation-lag', '--days', '3', '--system', 'payments');
    assert.equal(lag.code, 0, lag.err);
    assert.equal(lag.json<{ days: number }>().days, 3);
    assert.equal((await as('carl', 'revocation-lag')).code, 3);
  });

  it('a refusal over the server exits with the same code and exit code as the use case gives locally', async () => {
    const request = await createRequest(await world.as('carl'), { entitlement: 'payments/approve', justification: 'month end', duration: '8h' });
    const local = await approveRequest(await world.as('carl'), { request: request.id }).then(() => undefined, (e: unknown) => e);
    assert.ok(local instanceof TenureError);
    const remote = await as('carl', '--json', 'approve', request.id);
    assert.equal(remote.code, local.exitCode);
    assert.equal(remote.code, 3);
    const printed = JSON.parse(remote.err) as { error: { code: string; message: string } };
    assert.equal(printed.error.code, local.code);
    assert.equal(printed.error.code, 'request.self_approval_forbidden');
  });

  it('an unknown, a revoked or a missing token is refused with exit code 2 and a message naming TENURE_TOKEN, never the token', async () => {
    const bogus = `tnr_${'x'.repeat(43)}`;
    const unknown = await cli({ token: bogus }, 'grant', 'list');
    assert.equal(unknown.code, 2);
    assert.match(unknown.err, /auth\.invalid_credentials/);
    assert.match(unknown.err, /TENURE_TOKEN/);
    assert.ok(!unknown.err.includes(bogus), 'the token is never printed');

    const spare = await createToken(await world.as('carl'), { name: 'spare', scopes: ['read', 'write'] });
    assert.equal((await cli({ token: spare.secret }, 'grant', 'list')).code, 0);
    const revoked = await as('carl', 'token', 'revoke', spare.id);
    assert.equal(revoked.code, 0, revoked.err);
    const refused = await cli({ token: spare.secret }, 'grant', 'list');
    assert.equal(refused.code, 2);
    assert.match(refused.err, /TENURE_TOKEN/);

    const missing = await cli({}, 'grant', 'list');
    assert.equal(missing.code, 2);
    assert.match(missing.err, /auth\.required.*TENURE_TOKEN/);
  });

  it('--as with --server is a usage error, and commands without an API route refuse in server mode', async () => {
    const both = await cli({ token: tokens.get('carl')! }, '--as', 'carl', 'grant', 'list');
    assert.equal(both.code, 2);
    assert.match(both.err, /--as cannot be combined with --server/);
    const localOnly = [['init', '--handle', 'mallory', '--name', 'Mallory'], ['demo'], ['worker']];
    const refused = await Promise.all(localOnly.map((args) => as('ada', ...args)));
    refused.forEach((r, i) => {
      assert.equal(r.code, 2, localOnly[i]!.join(' '));
      assert.match(r.err, /server\.local_only/);
    });
  });

  it('webhooks are managed over the server: the secret is printed once and the list never shows it', async () => {
    const created = await as('ada', '--json', 'webhook', 'create', '--url', 'http://127.0.0.1:9/hooks', '--events', 'grant.revoked,grant.expired');
    assert.equal(created.code, 0, created.err);
    const { id, secret } = created.json<{ id: string; secret: string }>();
    assert.match(secret, /^whsec_/);
    const listed = await as('ada', '--json', 'webhook', 'list');
    assert.equal(listed.code, 0, listed.err);
    assert.ok(listed.out.includes(id) && !listed.out.includes(secret));
    assert.equal((await as('carl', 'webhook', 'list')).code, 3, 'a contractor may not manage webhooks');
    // The server holds the key ring, so rekey runs there; the CLI only asks.
    const rekeyed = await as('ada', '--json', 'webhook', 'rekey', '--check');
    assert.equal(rekeyed.code, 0, rekeyed.err);
    const report = rekeyed.json<{ check: boolean; currentKey: string; rekeyed: number; failed: unknown[] }>();
    assert.deepEqual([report.check, report.currentKey, report.rekeyed, report.failed], [true, webhookKey!.current.kid, 0, []]);
    const human = await as('ada', 'webhook', 'rekey');
    assert.equal(human.code, 0, human.err);
    assert.match(human.out, new RegExp(webhookKey!.current.kid));
    assert.equal((await as('carl', 'webhook', 'rekey')).code, 3, 'nor rekey them');
  });

  it('a server that cannot be reached exits with code 1 and names the URL', async () => {
    const r = await cli({ token: tokens.get('carl')!, server: 'http://127.0.0.1:1' }, 'grant', 'list');
    assert.equal(r.code, 1);
    assert.match(r.err, /server\.unreachable: cannot reach the Tenure server at http:\/\/127\.0\.0\.1:1/);
  });

  it('token create prints the secret once with a warning, the secret works, and token list never shows it', async () => {
    const shown = await as('ada', 'token', 'create', '--name', 'ci', '--scopes', 'read,write', '--expires-in', '30d');
    assert.equal(shown.code, 0, shown.err);
    const secrets = shown.out.match(/tnr_[A-Za-z0-9_-]{43}/g) ?? [];
    assert.equal(secrets.length, 1, 'the secret is printed exactly once');
    assert.match(shown.err, /will not be shown again/);

    const asJson = await as('ada', '--json', 'token', 'create', '--name', 'ci-json');
    const created = asJson.json<{ id: string; secret: string; scopes: string[] }>();
    assert.deepEqual(created.scopes, ['read']);
    const used = await cli({ token: secrets[0]! }, '--json', 'identity', 'list');
    assert.equal(used.code, 0, used.err);

    const listed = await as('ada', '--json', 'token', 'list');
    assert.equal(listed.code, 0, listed.err);
    const rows = listed.json<Record<string, unknown>[]>();
    assert.ok(rows.some((t) => t.name === 'ci') && rows.some((t) => t.name === 'ci-json'));
    assert.ok(rows.every((t) => !('secret' in t)));
    assert.ok(!listed.out.includes(secrets[0]!) && !listed.out.includes(created.secret));
  });

  it('policy plan in server mode reads the files here and sends their text to the server', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tenure-policy-'));
    writeFileSync(join(dir, 'policy.yaml'), `${readFileSync(LIFECYCLE_POLICY, 'utf8')}
  reports:
    name: Reporting
    business_owner: olivia
    technical_owner: tom
    criticality: low
    entitlements:
      read: { name: Read reports, tier: read }
`);
    const plan = await as('ada', '--json', 'policy', 'plan', dir);
    assert.equal(plan.code, 0, plan.err);
    const result = plan.json<{ files: string[]; changed: boolean; lines: string[] }>();
    assert.deepEqual(result.files, [join(dir, 'policy.yaml')]);
    assert.equal(result.changed, true);
    assert.ok(result.lines.some((line) => line.startsWith('+ system reports')), result.lines.join('\n'));
    const missing = await as('ada', 'policy', 'plan', join(dir, 'nope'));
    assert.equal(missing.code, 2);
    assert.match(missing.err, /policy\.invalid: .*no such file or folder/);
  });

  it('audit export in server mode streams the JSON Lines of the server to stdout', async () => {
    const r = await as('audrey', 'audit', 'export', '--identity', 'carl');
    assert.equal(r.code, 0, r.err);
    const lines = r.out.trim().split('\n').map((line) => JSON.parse(line) as { seq: number; hash: string; event: { action: string } });
    assert.ok(lines.every((line) => line.hash.length === 64), 'each line carries its chain hash');
    assert.ok(lines.some((line) => line.event.action === 'grant.created'));
  });

  it('server mode never opens a local database', () => {
    assert.equal(existsSync(dataDir), false);
  });
});
