import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { TenureError } from '../src/domain/errors.js';
import { decryptSecret, encryptSecret, keyRing, newWebhookSecret, webhookKey } from '../src/webhooks/crypto.js';
import { loadWebhookKeyRing } from '../src/webhooks/key-ring.js';
import { backoffMs } from '../src/webhooks/deliver.js';
import { webhookTickOptions } from '../src/webhooks/index.js';
import { signatureHeader, verifySignature } from '../src/webhooks/signature.js';
import { startTenure, TENURE_BIN } from './support/tenure-process.js';

const refused = (fn: () => unknown, code: string): TenureError => {
  try { fn(); } catch (error) {
    assert.ok(error instanceof TenureError && error.code === code, String(error));
    return error;
  }
  assert.fail(`expected ${code}`);
};

describe('the webhook key, secrets and signatures', () => {
  let dir: string;
  beforeEach(() => { dir = mkdtempSync(join(tmpdir(), 'tenure-webhook-key-')); });
  afterEach(() => { rmSync(dir, { recursive: true, force: true }); });

  it('on the embedded default the key is created once in the data directory, readable by its owner only', () => {
    const dataDir = join(dir, 'data');
    assert.equal(loadWebhookKeyRing({ env: {}, dataDir, create: false }), undefined, 'a server without a key gets none');
    const created = loadWebhookKeyRing({ env: {}, dataDir, create: true })!;
    assert.equal(statSync(join(dataDir, 'webhook-key')).mode & 0o777, 0o600);
    const again = loadWebhookKeyRing({ env: {}, dataDir, create: false })!;
    assert.ok(created.current.key.equals(again.current.key), 'the next start reads the same key');
    assert.equal(created.current.key.length, 32);
  });

  it('a configured key comes first; a named file must exist; a bad key is refused without being echoed', () => {
    const inline = randomBytes(32).toString('base64');
    const fromEnv = loadWebhookKeyRing({ env: { TENURE_WEBHOOK_KEY: inline }, dataDir: dir, create: true })!;
    assert.equal(fromEnv.current.key.toString('base64'), inline);
    assert.equal(fromEnv.current.source, 'TENURE_WEBHOOK_KEY');
    const file = join(dir, 'mounted-key');
    writeFileSync(file, `${inline}\n`);
    assert.ok(loadWebhookKeyRing({ env: { TENURE_WEBHOOK_KEY_FILE: file }, dataDir: dir, create: true })!.current.key.equals(fromEnv.current.key));
    refused(() => loadWebhookKeyRing({ env: { TENURE_WEBHOOK_KEY_FILE: join(dir, 'absent') }, dataDir: dir, create: true }), 'webhook.key_missing');
    const short = randomBytes(16).toString('base64');
    const error = refused(() => loadWebhookKeyRing({ env: { TENURE_WEBHOOK_KEY: short }, dataDir: dir, create: true }), 'webhook.key_invalid');
    assert.ok(!error.message.includes(short));
    refused(() => loadWebhookKeyRing({ env: { TENURE_WEBHOOK_KEY: 'not base64 at all!' }, dataDir: dir, create: true }), 'webhook.key_invalid');
  });

  it('one setting holds the whole ring, current key first; a bad or repeated key is refused by its position, never echoed', () => {
    const [current, older] = [randomBytes(32).toString('base64'), randomBytes(32).toString('base64')];
    const inline = loadWebhookKeyRing({ env: { TENURE_WEBHOOK_KEY: `${current},${older}` }, dataDir: dir, create: true })!;
    assert.equal(inline.current.key.toString('base64'), current);
    assert.equal(inline.keys.size, 2);
    assert.deepEqual([...inline.keys.values()].map((k) => k.source), ['TENURE_WEBHOOK_KEY key 1', 'TENURE_WEBHOOK_KEY key 2']);
    const file = join(dir, 'ring');
    writeFileSync(file, `# new, since the rotation\n${current}\n\n# old: remove once rekeyed\n${older}\n`);
    const fromFile = loadWebhookKeyRing({ env: { TENURE_WEBHOOK_KEY_FILE: file }, dataDir: dir, create: true })!;
    assert.equal(fromFile.current.kid, inline.current.kid, 'comments and blank lines are skipped');
    assert.deepEqual([...fromFile.keys.keys()], [...inline.keys.keys()]);

    const short = randomBytes(16).toString('base64');
    const bad = refused(() => loadWebhookKeyRing({ env: { TENURE_WEBHOOK_KEY: `${current},${short}` }, dataDir: dir, create: true }), 'webhook.key_invalid');
    assert.match(bad.message, /^TENURE_WEBHOOK_KEY key 2: must be 32 bytes/);
    assert.ok(!bad.message.includes(short) && !bad.message.includes(current));
    const twice = refused(() => loadWebhookKeyRing({ env: { TENURE_WEBHOOK_KEY: `${current},${older},${current}` }, dataDir: dir, create: true }),
      'webhook.key_duplicate');
    assert.match(twice.message, /TENURE_WEBHOOK_KEY key 1 and TENURE_WEBHOOK_KEY key 3 are the same key/);
    assert.ok(!twice.message.includes(current));
    writeFileSync(file, '# nothing but a comment\n');
    assert.match(refused(() => loadWebhookKeyRing({ env: { TENURE_WEBHOOK_KEY_FILE: file }, dataDir: dir, create: true }), 'webhook.key_invalid').message,
      /holds no key/);
  });

  it('tenure worker refuses a bad key ring at start, by its position; a good one is logged by key ids only', async () => {
    const [current, older] = [randomBytes(32).toString('base64'), randomBytes(32).toString('base64')];
    const env = { ...process.env, TENURE_DATA_DIR: join(dir, 'data'), DATABASE_URL: '', TENURE_SERVER: '', TENURE_ACTOR: '' };
    const bad = spawnSync(process.execPath, [TENURE_BIN, 'worker'], { env: { ...env, TENURE_WEBHOOK_KEY: `${current},${current}` }, encoding: 'utf8', timeout: 120_000 });
    assert.equal(bad.status, 2, bad.stderr);
    assert.match(bad.stderr, /webhook\.key_duplicate: TENURE_WEBHOOK_KEY key 1 and TENURE_WEBHOOK_KEY key 2 are the same key/);
    assert.ok(!bad.stderr.includes(current));
    const ring = keyRing([webhookKey(Buffer.from(current, 'base64'), 'a'), webhookKey(Buffer.from(older, 'base64'), 'b')]);
    const worker = await startTenure(['worker'], { ...env, TENURE_WEBHOOK_KEY: `${current},${older}`, TENURE_WORKER_INTERVAL_MS: '600000' }, /worker running/);
    try {
      assert.match(worker.log(), new RegExp(`webhook key ring: current ${ring.current.kid}, also decrypting ${[...ring.keys.keys()][1]!}`));
      assert.ok(!worker.log().includes(current) && !worker.log().includes(older));
    } finally {
      await worker.stop();
    }
  });

  it('the worker reads the key but never creates it, and refuses a notice window that is not a duration', () => {
    assert.equal(webhookTickOptions({ env: {}, dataDir: dir }).key, undefined);
    assert.equal(existsSync(join(dir, 'webhook-key')), false);
    assert.deepEqual(webhookTickOptions({ env: { TENURE_WEBHOOK_EXPIRY_NOTICE: '3d' }, dataDir: dir }).expiryNoticesMs, [3 * 86_400_000]);
    assert.deepEqual(webhookTickOptions({ env: { TENURE_WEBHOOK_EXPIRY_NOTICE: '14d, 1d' }, dataDir: dir }).expiryNoticesMs, [14 * 86_400_000, 86_400_000]);
    assert.deepEqual(webhookTickOptions({ env: {}, dataDir: dir }).expiryNoticesMs, [14 * 86_400_000, 86_400_000], 'two weeks and a day by default');
    assert.throws(() => webhookTickOptions({ env: { TENURE_WEBHOOK_EXPIRY_NOTICE: 'soon' }, dataDir: dir }), /TENURE_WEBHOOK_EXPIRY_NOTICE/);
  });

  it('a secret round-trips through encryption and each encryption is different', () => {
    const key = keyRing([webhookKey(randomBytes(32), 'test')]);
    const secret = newWebhookSecret();
    const one = encryptSecret(key, secret, 'sub-1');
    assert.notEqual(one, encryptSecret(key, secret, 'sub-1'), 'a fresh IV every time');
    assert.equal(decryptSecret(key, one, 'sub-1'), secret);
    const [version, kid, iv, tag, data] = one.split('.');
    const flipped = Buffer.from(data!, 'base64url');
    flipped[0]! ^= 1;
    assert.throws(() => decryptSecret(key, [version, kid, iv, tag, flipped.toString('base64url')].join('.'), 'sub-1'), /does not decrypt/);
  });

  it('a signature header carries a timestamp and accepts any matching v1 value', () => {
    const secret = newWebhookSecret();
    const at = new Date('2030-01-01T09:00:00Z');
    const header = signatureHeader(secret, '{"a":1}', at);
    assert.match(header, /^t=1893488400,v1=[0-9a-f]{64}$/);
    assert.ok(verifySignature(secret, `${header},v1=${'0'.repeat(64)}`, '{"a":1}', { now: at }), 'rotation: several v1 values');
    assert.equal(verifySignature(secret, 'v1=abc', '{"a":1}', { now: at }), false);
    assert.equal(verifySignature(secret, undefined, '{"a":1}', { now: at }), false);
  });

  it('retry waits double from 30 s up to an hour, never more, with at most 20% taken off', () => {
    assert.deepEqual([1, 2, 3, 8, 12].map((n) => backoffMs(n, () => 1)), [30_000, 60_000, 120_000, 3_600_000, 3_600_000]);
    assert.deepEqual([1, 2].map((n) => backoffMs(n, () => 0)), [24_000, 48_000]);
  });
});
