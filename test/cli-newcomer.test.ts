import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { freePort } from './support/processes.js';
import { readmeShellBlock } from './support/readme.js';
import { startTenure, TENURE_BIN } from './support/tenure-process.js';

const README = readFileSync(fileURLToPath(new URL('../README.md', import.meta.url)), 'utf8');
const widest = (text: string) => Math.max(...text.split('\n').map((line) => line.length));

/** What a newcomer trips on (issue 14), each checked on a real process and a real embedded data directory. */
describe('the command line as a newcomer meets it', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'tenure-newcomer-'));
  const env: NodeJS.ProcessEnv = { ...process.env, TENURE_DATA_DIR: dataDir, DATABASE_URL: '', TENURE_ACTOR: '', TENURE_SERVER: '' };
  delete env.TENURE_PUBLIC_URL; // the default public URL is what a newcomer gets
  const tenure = (...args: string[]) => {
    const r = spawnSync(process.execPath, [TENURE_BIN, ...args], { env, encoding: 'utf8', timeout: 300_000 });
    return { code: r.status, out: r.stdout, err: r.stderr, json: <T>() => JSON.parse(r.stdout) as T };
  };
  let demo: ReturnType<typeof tenure>;
  before(() => { demo = tenure('demo'); assert.equal(demo.code, 0, demo.err); });
  after(() => rmSync(dataDir, { recursive: true, force: true }));

  it('the demo\'s persona table names everyone the README\'s walk-through and HR example act as', () => {
    const blocks = ['## Walk a contractor through the lifecycle', '## The HR feed: joiners, movers and leavers'].map((h) => readmeShellBlock(README, h));
    const actors = new Set(blocks.join('\n').match(/--as \w+/g)!.map((a) => a.slice(5)));
    assert.ok(actors.has('ivan'));
    for (const handle of actors) assert.match(demo.out, new RegExp(`│ ${handle}\\s+│`), `${handle} is in the table tenure demo prints`);
  });

  it('tenure demo on a database that has data exits 3 and says how to go on: --if-empty, or a fresh TENURE_DATA_DIR', () => {
    const again = tenure('demo');
    assert.equal(again.code, 3);
    assert.match(again.err, /setup\.already_initialised/);
    assert.match(again.err, /tenure demo --if-empty/);
    assert.match(again.err, /TENURE_DATA_DIR=\$\(mktemp -d\)/);
    assert.equal(tenure('demo', '--if-empty').code, 0);
  });

  it('request show prints key/value lines and a stages table within 100 columns, with no JSON in it', () => {
    const [pending] = tenure('--as', 'carl', '--json', 'request', 'list').json<{ id: string; status: string }[]>().filter((r) => r.status === 'pending');
    const shown = tenure('--as', 'carl', 'request', 'show', pending!.id);
    assert.equal(shown.code, 0, shown.err);
    assert.ok(widest(shown.out) <= 100, shown.out);
    assert.doesNotMatch(shown.out, /\{"/);
    assert.match(shown.out, /entitlement\s+payments\/initiate \(standard tier\)/);
    assert.match(shown.out, /│ 1 │ sponsor/);
  });

  it('request create --quiet prints the new id alone, for REQ=$(…) in scripts', () => {
    const created = tenure('--as', 'carl', 'request', 'create', '--entitlement', 'payments/read', '--reason', 'r', '--duration', '1h', '--quiet');
    assert.equal(created.code, 0, created.err);
    assert.match(created.out, /^[0-9a-f-]{36}\n$/);
  });

  it('worker --once says in words what the pass did, with no JSON in it', () => {
    const pass = tenure('worker', '--once');
    assert.equal(pass.code, 0, pass.err);
    assert.match(pass.out, /^Worker pass done/);
    assert.doesNotMatch(pass.out, /[{}]/);
  });

  it('findings list shows the open ones unless --all or --status asks for the others', () => {
    const open = tenure('--as', 'selma', 'findings', 'list');
    assert.equal(open.code, 0, open.err);
    assert.doesNotMatch(open.out, /resolved/, 'the demo\'s late removal was resolved: not shown by default');
    assert.match(open.out, /credential_rotation_overdue/);
    assert.match(tenure('--as', 'selma', 'findings', 'list', '--all').out, /manual_task_overdue\s+severity\s+\S+\s+status\s+resolved/);
    assert.match(tenure('--as', 'selma', 'findings', 'list', '--status', 'resolved').out, /manual_task_overdue/);
    assert.equal(tenure('--as', 'selma', 'findings', 'list', '--all', '--status', 'open').code, 2);
  });

  it('evidence --out says what it wrote where, and the page names who generated it by handle', () => {
    const file = join(dataDir, 'carl.html');
    const r = tenure('--as', 'audrey', 'evidence', 'identity', 'carl', '--html', '--out', file);
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, new RegExp(`^wrote the evidence pack of identity carl \\(\\d+ audit events, HTML, \\d+ bytes\\) to ${file}\\n$`));
    assert.match(readFileSync(file, 'utf8'), /Generated \S+ by audrey\./);
  });

  it('serve --demo keeps request logs out of the terminal, in requests.log beside the database, names one host, and says where mail goes', async () => {
    const port = await freePort();
    const served = await startTenure(['serve', '--demo'], { ...env, PORT: String(port) }, /serving (http:\/\/\S+)/);
    try {
      for (let i = 0; i < 3; i += 1) assert.ok((await fetch(`${served.url}/v1/identities`)).status < 500);
      await new Promise((resolve) => setTimeout(resolve, 300));
      const terminal = served.log();
      assert.doesNotMatch(terminal, /"reqId"|incoming request/);
      assert.doesNotMatch(terminal, /127\.0\.0\.1/, 'the start line names localhost, as the sign-in links do');
      assert.match(terminal, new RegExp(`serving http://localhost:${port} \\(web console at http://localhost:${port}/, API docs at http://localhost:${port}/docs\\)`));
      assert.match(terminal, /request logs in \S+requests\.log/);
      assert.match(terminal, /mail goes to the Maildir \S+\/mail\/new/, 'a newcomer learns where mail goes');
    } finally {
      await served.stop();
    }
    const file = join(dataDir, 'requests.log');
    assert.ok(existsSync(file));
    assert.equal(readFileSync(file, 'utf8').match(/"path":"\/v1\/identities","status":\d+/g)?.length, 3, 'one JSON line a request');
  });
});
