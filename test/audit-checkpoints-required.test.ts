import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { auditKeyEnv } from './support/audit-key.js';
import { tempDir } from './support/audit-fixture.js';
import { BACKENDS } from './support/backends.js';
import { createScratchDatabase } from './support/postgres-server.js';
import { startTenure, TENURE_BIN } from './support/tenure-process.js';

/**
 * On a PostgreSQL server, signed checkpoints are what keep its owner from cutting the audit log's
 * tail unnoticed (issue 15, observation 7): serve and worker refuse to run without a key unless
 * they are told, on purpose, to run without checkpoints.
 */
describe('audit checkpoints are on by default on a server', { skip: !BACKENDS.includes('postgres') }, () => {
  let scratch: Awaited<ReturnType<typeof createScratchDatabase>>;
  let dataDir: string;
  let env: NodeJS.ProcessEnv;
  const tenure = (args: string[], extra: NodeJS.ProcessEnv = {}) =>
    spawnSync(process.execPath, [TENURE_BIN, ...args], { env: { ...env, ...extra }, encoding: 'utf8', timeout: 120_000 });

  before(async () => {
    scratch = await createScratchDatabase();
    dataDir = tempDir('checkpoints-required');
    env = { ...process.env, DATABASE_URL: scratch.url, TENURE_DATA_DIR: dataDir, TENURE_ACTOR: '', TENURE_SERVER: '',
      TENURE_AUDIT_SIGNING_KEY: '', TENURE_AUDIT_KEY_FILE: '', TENURE_AUDIT_CHECKPOINTS: '', PORT: '0' };
    const init = tenure(['init', '--handle', 'ada', '--name', 'Ada Admin']);
    assert.equal(init.status, 0, init.stderr);
  });
  after(async () => {
    await scratch.drop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  for (const command of ['serve', 'worker']) {
    it(`refuses to start ${command} without an audit signing key, naming the settings that fix it`, () => {
      const r = tenure([command]);
      assert.equal(r.status, 3, r.stderr);
      assert.match(r.stderr, /audit\.checkpoints_required/);
      assert.match(r.stderr, /TENURE_AUDIT_KEY_FILE/);
      assert.match(r.stderr, /TENURE_AUDIT_CHECKPOINTS=off/);
    });
  }

  it('refuses a TENURE_AUDIT_CHECKPOINTS that is neither on nor off', () => {
    const r = tenure(['worker'], { TENURE_AUDIT_CHECKPOINTS: 'maybe' });
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /TENURE_AUDIT_CHECKPOINTS must be on or off/);
  });

  it('runs with checkpoints turned off on purpose, warning loudly at start, and signs nothing', async () => {
    const worker = await startTenure(['worker'], { ...env, TENURE_AUDIT_CHECKPOINTS: 'off', TENURE_WORKER_INTERVAL_MS: '200' }, /worker running/);
    try {
      assert.match(worker.log(), /"level":40,.*audit checkpoints are OFF/);
    } finally {
      await worker.stop();
    }
    const strict = tenure(['--as', 'ada', 'audit', 'verify', '--strict', '--allow-unsigned']);
    assert.equal(strict.status, 3, `${strict.stdout}${strict.stderr}`);
    assert.match(strict.stdout, /no signed checkpoint covers any of the \d+ events/);
    const lenient = tenure(['--as', 'ada', 'audit', 'verify', '--allow-unsigned']);
    assert.equal(lenient.status, 0, lenient.stderr);
    assert.match(lenient.stdout, /0 checkpoints verified.*UNSIGNED: nothing outside the database vouches for it/);
  });

  it('signs checkpoints when a key is given, and strict verification passes', async () => {
    const key = auditKeyEnv();
    const worker = await startTenure(['worker'], { ...env, ...key, TENURE_WORKER_INTERVAL_MS: '200', TENURE_CHECKPOINT_INTERVAL_MS: '200' }, /worker running/);
    await worker.stop();
    const strict = tenure(['--as', 'ada', 'audit', 'verify', '--strict'], key);
    assert.equal(strict.status, 0, `${strict.stdout}${strict.stderr}`);
    assert.match(strict.stdout, /^ok: \d+ events?, [1-9]\d* checkpoints? verified/);
  });
});
