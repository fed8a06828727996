import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const npm = (args: string[], cwd: string) => execFileSync('npm', args, { cwd, encoding: 'utf8', timeout: 180_000, stdio: ['ignore', 'pipe', 'pipe'] });

/**
 * The package as a user gets it: `npm pack` (which builds dist/ and the web console), installed from
 * the tarball into an empty directory, and run through npx. Everything happens in a temporary
 * directory; the build writes only dist/ and web/dist/ here, both ignored by git.
 */
describe('the packed tarball, installed into an empty directory', () => {
  const work = mkdtempSync(join(tmpdir(), 'tenure-package-'));
  const app = join(work, 'app');
  const env: NodeJS.ProcessEnv = { ...process.env, TENURE_DATA_DIR: join(work, 'data'), DATABASE_URL: '', TENURE_ACTOR: '', TENURE_SERVER: '' };
  const tenure = (...args: string[]) => spawnSync('npx', ['--no-install', 'tenure', ...args], { cwd: app, env, encoding: 'utf8', timeout: 120_000 });

  before(() => {
    npm(['pack', '--pack-destination', work], ROOT);
    const tarball = readdirSync(work).find((name) => name.endsWith('.tgz'));
    assert.ok(tarball, 'npm pack wrote a tarball');
    mkdirSync(app);
    writeFileSync(join(app, 'package.json'), '{ "private": true }\n');
    // The registry's metadata may not be cached after `npm ci`; the packages themselves are.
    npm(['install', '--prefer-offline', '--no-audit', '--no-fund', join(work, tarball)], app);
  });
  after(() => rmSync(work, { recursive: true, force: true }));

  it('holds compiled code, migrations, the web console, the demo policy and the alert rules, and no TypeScript sources', () => {
    const installed = join(app, 'node_modules', 'tenure');
    assert.ok(existsSync(join(installed, 'dist', 'cli', 'main.js')));
    assert.ok(existsSync(join(installed, 'dist', 'store', 'migrations', 'meta', '_journal.json')));
    assert.ok(existsSync(join(installed, 'web', 'dist', 'index.html')));
    assert.ok(existsSync(join(installed, 'examples', 'demo-policy.yaml')));
    assert.ok(existsSync(join(installed, 'ops', 'prometheus', 'tenure-alerts.yml')));
    assert.ok(!existsSync(join(installed, 'src')), 'no src/: the bin runs dist/');
  });

  it('npx tenure --help lists the commands', () => {
    const r = tenure('--help');
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /Usage: tenure/);
    assert.match(r.stdout, /grant/);
  });

  it('npx tenure demo loads the demo, and a read as carl then answers from it', () => {
    const demo = tenure('demo');
    assert.equal(demo.status, 0, demo.stderr);
    assert.match(demo.stdout, /carl/);
    const grants = tenure('--as', 'carl', '--json', 'grant', 'list');
    assert.equal(grants.status, 0, grants.stderr);
    assert.ok(Array.isArray(JSON.parse(grants.stdout)));
  });

  it('npx tenure serve --demo serves the API and the built web console', async () => {
    // The file npx runs, started directly so that SIGTERM reaches the server and not an npm wrapper.
    const child = spawn(join(app, 'node_modules', '.bin', 'tenure'), ['serve', '--demo', '--port', '0'], { cwd: app, env, stdio: ['ignore', 'ignore', 'pipe'] });
    try {
      const url = await new Promise<string>((resolve, reject) => {
        let log = '';
        const timer = setTimeout(() => reject(new Error(`serve did not start: ${log}`)), 60_000);
        child.stderr.on('data', (chunk: Buffer) => {
          log += String(chunk);
          const match = /serving (http:\/\/\S+)/.exec(log);
          if (match) { clearTimeout(timer); resolve(match[1]!); }
        });
        child.on('exit', (code) => { clearTimeout(timer); reject(new Error(`serve exited with ${code}: ${log}`)); });
      });
      const page = await fetch(`${url}/`);
      assert.equal(page.status, 200);
      assert.match(await page.text(), /<html/i);
      assert.ok((await fetch(`${url}/v1/identities`)).status < 500);
    } finally {
      const closed = new Promise((done) => child.once('close', done));
      child.kill('SIGTERM');
      await closed;
    }
  });
});
