import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { checkpointSignatureProblem, signCheckpoint } from '../src/audit/checkpoint-signature.js';
import { DEFAULT_KEY_FILE, loadSigningKey, loadTrustedKeys, publicKeyPem } from '../src/audit/signing-key.js';
import { TenureError } from '../src/domain/errors.js';
import { tempDir } from './support/audit-fixture.js';

const refusedWith = (code: string) => (error: unknown) => error instanceof TenureError && error.code === code;
const privatePem = () => generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();

describe('the audit signing key', () => {
  it('is created in the data directory on first need, readable by its owner only, and reused after', () => {
    const dataDir = join(tempDir('key'), 'nested');
    assert.equal(loadSigningKey({ env: {}, dataDir, create: false }), undefined);
    const created = loadSigningKey({ env: {}, dataDir, create: true })!;
    assert.ok(created.privateKey);
    assert.match(created.keyId, /^[0-9a-f]{16}$/);
    if (process.platform !== 'win32') assert.equal(statSync(join(dataDir, DEFAULT_KEY_FILE)).mode & 0o777, 0o600);
    assert.equal(loadSigningKey({ env: {}, dataDir, create: true })!.keyId, created.keyId);
  });

  it('comes from TENURE_AUDIT_SIGNING_KEY first, with newlines escaped or not', () => {
    const pem = privatePem();
    const dataDir = tempDir('key');
    const plain = loadSigningKey({ env: { TENURE_AUDIT_SIGNING_KEY: pem }, dataDir, create: true })!;
    const escaped = loadSigningKey({ env: { TENURE_AUDIT_SIGNING_KEY: pem.replace(/\n/g, '\\n') }, dataDir, create: true })!;
    assert.equal(plain.keyId, escaped.keyId);
    assert.equal(loadSigningKey({ env: {}, dataDir, create: false }), undefined, 'nothing was written to the data directory');
  });

  it('comes from the file TENURE_AUDIT_KEY_FILE names, which must exist', () => {
    const dir = tempDir('key');
    const file = join(dir, 'signing.pem');
    assert.throws(() => loadSigningKey({ env: { TENURE_AUDIT_KEY_FILE: file }, dataDir: dir, create: true }), refusedWith('audit.signing_key_missing'));
    writeFileSync(file, privatePem());
    assert.ok(loadSigningKey({ env: { TENURE_AUDIT_KEY_FILE: file }, dataDir: dir, create: false })?.privateKey);
  });

  it('must be an Ed25519 key', () => {
    const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    assert.throws(() => loadSigningKey({ env: { TENURE_AUDIT_SIGNING_KEY: ec }, dataDir: tempDir('key'), create: false }), refusedWith('audit.signing_key_invalid'));
    assert.throws(() => loadSigningKey({ env: { TENURE_AUDIT_SIGNING_KEY: 'not a key' }, dataDir: tempDir('key'), create: false }), refusedWith('audit.signing_key_invalid'));
  });

  it('as a public key alone verifies checkpoints but cannot sign them', () => {
    const signer = loadSigningKey({ env: { TENURE_AUDIT_SIGNING_KEY: privatePem() }, dataDir: tempDir('key'), create: false })!;
    const verifier = loadSigningKey({ env: { TENURE_AUDIT_SIGNING_KEY: publicKeyPem(signer) }, dataDir: tempDir('key'), create: false })!;
    assert.equal(verifier.privateKey, undefined);
    assert.equal(verifier.keyId, signer.keyId);
    const checkpoint = signCheckpoint(signer, { seq: 5, hash: 'a'.repeat(64) }, new Date());
    assert.equal(checkpointSignatureProblem(checkpoint, new Map([[verifier.keyId, verifier.publicKey]])), undefined);
    assert.throws(() => signCheckpoint(verifier, { seq: 5, hash: 'a'.repeat(64) }, new Date()), /can verify but not sign/);
  });

  it('after a rotation, checkpoints of the old key verify when its public key is in the trusted keys file', () => {
    const dir = tempDir('key');
    const old = loadSigningKey({ env: { TENURE_AUDIT_SIGNING_KEY: privatePem() }, dataDir: dir, create: false })!;
    const oldCheckpoint = signCheckpoint(old, { seq: 9, hash: 'b'.repeat(64) }, new Date('2030-01-01T00:00:00Z'));
    const current = { TENURE_AUDIT_SIGNING_KEY: privatePem() };
    assert.match(checkpointSignatureProblem(oldCheckpoint, loadTrustedKeys({ env: current, dataDir: dir }))!, /not a trusted key/);
    const bundle = join(dir, 'trusted.pem');
    writeFileSync(bundle, publicKeyPem(old) + generateKeyPairSync('ed25519').publicKey.export({ type: 'spki', format: 'pem' }).toString());
    const trusted = loadTrustedKeys({ env: { ...current, TENURE_AUDIT_TRUSTED_KEYS_FILE: bundle }, dataDir: dir });
    assert.equal(trusted.size, 3);
    assert.equal(checkpointSignatureProblem(oldCheckpoint, trusted), undefined);
  });

  it('a checkpoint relabelled, re-dated or moved no longer verifies', () => {
    const key = loadSigningKey({ env: { TENURE_AUDIT_SIGNING_KEY: privatePem() }, dataDir: tempDir('key'), create: false })!;
    const trusted = new Map([[key.keyId, key.publicKey]]);
    const checkpoint = signCheckpoint(key, { seq: 7, hash: 'c'.repeat(64) }, new Date('2030-01-01T00:00:00Z'));
    for (const altered of [{ ...checkpoint, seq: 8 }, { ...checkpoint, hash: 'd'.repeat(64) }, { ...checkpoint, signedAt: new Date('2030-01-02T00:00:00Z') }]) {
      assert.match(checkpointSignatureProblem(altered, trusted)!, /did not make/);
    }
  });
});
