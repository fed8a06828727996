import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createPrivateKey, createPublicKey, randomUUID } from 'node:crypto';
import { chmodSync, copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { TenureError } from '../src/domain/errors.js';
import { certificateWindow } from '../src/domain/ssh-validity.js';
import {
  buildKrl, fingerprintOf, inspectCertificate, isRevoked, principalsFileContent, readCaPublicKey, signUserCertificate,
  type SignRequest,
} from '../src/ssh/certificate-authority.js';
import { SSH_TEST_USER, generateKeyPair, isRoot, startSshd, trySsh, withoutFile, type Sshd } from './support/sshd.js';

const HOUR = 3_600_000;
type KeyPair = ReturnType<typeof generateKeyPair>;

let dir: string;
let caOld: KeyPair;
let caNew: KeyPair;
let user: KeyPair;
let caOldPublic: string;
let caNewPublic: string;
let sshd: Sshd;
let serial = 0n;

/** Signs the user's key for a grant that started an hour ago and runs for a month, and saves the certificate. */
const issue = async (request: Partial<SignRequest> & { keyId: string }) => {
  serial += 1n;
  const now = new Date();
  const window = certificateWindow({ now, grantStartsAt: new Date(now.getTime() - HOUR), grantEndsAt: new Date(now.getTime() + 720 * HOUR) });
  const signed = await signUserCertificate({
    caKeyPath: caNew.privatePath, publicKey: user.publicKey, principals: [SSH_TEST_USER], serial, ...window, ...request,
  });
  const path = join(dir, `certificate-${serial}-cert.pub`);
  writeFileSync(path, `${signed.certificate}\n`, { mode: 0o600 });
  return { ...signed, path };
};

const login = (server: Sshd, certificatePath: string) =>
  trySsh({ port: server.port, user: SSH_TEST_USER, identityFile: user.privatePath, certificateFile: certificatePath });

const logsIn = async (server: Sshd, certificatePath: string) => {
  const attempt = await login(server, certificatePath);
  assert.equal(attempt.ok, true, `sshd refused the certificate: ${attempt.stderr}`);
};

/** Refused, and for the reason given: sshd's own log says why. */
const refusedBecause = async (server: Sshd, certificatePath: string, reason: RegExp) => {
  const mark = server.logMark();
  const attempt = await login(server, certificatePath);
  assert.equal(attempt.ok, false, 'sshd let the certificate in');
  assert.match(attempt.stderr, /Permission denied/);
  await server.waitForLog(reason, mark);
};

const refusal = (field: string, message: RegExp, code = 'input.invalid') => (error: unknown) => {
  assert.ok(error instanceof TenureError, `not a TenureError: ${String(error)}`);
  assert.equal(error.code, code);
  assert.equal(error.field, field);
  assert.match(error.message, message);
  return true;
};

/** The 32-byte secret seed of an unencrypted OpenSSH ed25519 private key file (PROTOCOL.key). */
const ed25519Seed = (privateKeyText: string): Buffer => {
  const blob = Buffer.from(privateKeyText.replace(/-----[^-]+-----/g, '').replace(/\s/g, ''), 'base64');
  let at = 'openssh-key-v1\0'.length;
  const take = (buffer: Buffer) => { const length = buffer.readUInt32BE(at); at += 4 + length; return buffer.subarray(at - length, at); };
  take(blob); take(blob); take(blob); // cipher, KDF and KDF options
  at += 4; // the number of keys
  take(blob); // the public key
  const privateSection = take(blob);
  at = 8; // two check numbers
  take(privateSection); take(privateSection); // the key type and the public key
  return take(privateSection).subarray(0, 32);
};

const ED25519_PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');

const withBigints = (value: unknown) => JSON.stringify(value, (_key, item: unknown) => (typeof item === 'bigint' ? item.toString() : item));

describe('Tenure as an SSH certificate authority, against a real sshd', { skip: isRoot() ? false : 'needs root: sshd and a login user' }, () => {
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tenure-ssh-ca-'));
    [caOld, caNew, user] = [generateKeyPair(dir, 'ca-old'), generateKeyPair(dir, 'ca-new'), generateKeyPair(dir, 'user')];
    caOldPublic = await readCaPublicKey(caOld.privatePath);
    caNewPublic = await readCaPublicKey(caNew.privatePath);
    sshd = await startSshd({ trustedCaKeys: [caNewPublic] });
  });
  after(async () => {
    await sshd?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('a certificate signed by the CA logs in as its principal', async () => {
    const grantId = randomUUID();
    const signed = await issue({ keyId: grantId });
    const details = await inspectCertificate(signed.certificate);
    assert.equal(details.keyId, grantId);
    assert.deepEqual(details.principals, [SSH_TEST_USER]);
    assert.deepEqual(details.extensions, ['permit-pty'], 'no agent, port or X11 forwarding unless asked for');
    assert.deepEqual(details.criticalOptions, []);
    assert.equal(signed.caFingerprint, await fingerprintOf(caNewPublic));
    assert.ok(signed.validBefore.getTime() - Date.now() <= 8 * HOUR);
    await logsIn(sshd, signed.path);
  });

  it('a certificate whose validity has passed is refused', async () => {
    const now = Date.now();
    const expired = await issue({ keyId: randomUUID(), validAfter: new Date(now - 2 * HOUR), validBefore: new Date(now - HOUR) });
    await refusedBecause(sshd, expired.path, /Certificate invalid: expired/);
    const early = await issue({ keyId: randomUUID(), validAfter: new Date(now + HOUR), validBefore: new Date(now + 2 * HOUR) });
    await refusedBecause(sshd, early.path, /Certificate invalid: not yet valid/);
  });

  it('a certificate added to the KRL by its key id is refused at the next login', async () => {
    const grantId = randomUUID();
    const [first, second, otherGrant] = [await issue({ keyId: grantId }), await issue({ keyId: grantId }), await issue({ keyId: randomUUID() })];
    await logsIn(sshd, first.path);

    await buildKrl({ caPublicKeys: [caNewPublic], revoked: [{ keyId: grantId }], outPath: sshd.krlPath });
    assert.equal(await isRevoked(sshd.krlPath, first.path), true);
    assert.equal(await isRevoked(sshd.krlPath, second.certificate), true, 'every certificate of the grant, not only the one seen');
    assert.equal(await isRevoked(sshd.krlPath, otherGrant.path), false);
    await refusedBecause(sshd, first.path, /revoked by file/);
    await refusedBecause(sshd, second.path, /revoked by file/);
    await logsIn(sshd, otherGrant.path);

    await buildKrl({ caPublicKeys: [caNewPublic], revoked: [{ keyId: grantId }, { serial: otherGrant.serial }], outPath: sshd.krlPath });
    await refusedBecause(sshd, otherGrant.path, /revoked by file/);
    await buildKrl({ caPublicKeys: [caNewPublic], revoked: [], outPath: sshd.krlPath });
  });

  it('an empty KRL lets certificates in, and a missing KRL shuts every certificate out', async () => {
    await buildKrl({ caPublicKeys: [], revoked: [], outPath: sshd.krlPath });
    const signed = await issue({ keyId: randomUUID() });
    await logsIn(sshd, signed.path);
    await withoutFile(sshd.krlPath, () => refusedBecause(sshd, signed.path, /Error checking authentication key .* in revoked keys file .*: No such file or directory/));
    await logsIn(sshd, signed.path);
  });

  it('a certificate for another principal is refused', async () => {
    const signed = await issue({ keyId: randomUUID(), principals: ['someone-else'] });
    await refusedBecause(sshd, signed.path, /Certificate invalid: name is not a listed principal/);
  });

  it('after rotation, certificates from the old and the new CA both log in while sshd trusts both, and the old one is refused once the old CA is removed', async () => {
    sshd.setTrustedCaKeys([caOldPublic, caNewPublic]);
    try {
      const fromOld = await issue({ keyId: randomUUID(), caKeyPath: caOld.privatePath });
      const fromNew = await issue({ keyId: randomUUID() });
      await logsIn(sshd, fromOld.path);
      await logsIn(sshd, fromNew.path);
      sshd.setTrustedCaKeys([caNewPublic]);
      await refusedBecause(sshd, fromOld.path, /CA ED25519 \S+ is not listed in \S+trusted-user-ca-keys/);
      await logsIn(sshd, fromNew.path);
    } finally {
      sshd.setTrustedCaKeys([caNewPublic]);
    }
  });

  it('during a rotation, revoking a grant by key id refuses its certificates from both CAs', async () => {
    sshd.setTrustedCaKeys([caOldPublic, caNewPublic]);
    try {
      const grantId = randomUUID();
      const fromOld = await issue({ keyId: grantId, caKeyPath: caOld.privatePath });
      const fromNew = await issue({ keyId: grantId });
      await buildKrl({ caPublicKeys: [caOldPublic, caNewPublic], revoked: [{ keyId: grantId }], outPath: sshd.krlPath });
      await refusedBecause(sshd, fromOld.path, /revoked by file/);
      await refusedBecause(sshd, fromNew.path, /revoked by file/);
    } finally {
      sshd.setTrustedCaKeys([caNewPublic]);
      await buildKrl({ caPublicKeys: [], revoked: [], outPath: sshd.krlPath });
    }
  });

  it('AuthorizedPrincipalsCommand output decides who may log in', async () => {
    const liveGrant = randomUUID();
    // Stands in for `tenure ssh principals`: sshd runs it at every login with the login name and the key id.
    const script = [
      '#!/bin/sh',
      `if [ "$1" = "${SSH_TEST_USER}" ] && [ "$2" = "${liveGrant}" ]; then`,
      `  printf '%s' '${principalsFileContent(['deploy-ops', 'db-read'])}'`,
      'fi',
      '',
    ].join('\n');
    const server = await startSshd({ trustedCaKeys: [caNewPublic], principals: { kind: 'command', script, args: '%u %i' } });
    try {
      await logsIn(server, (await issue({ keyId: liveGrant, principals: ['deploy-ops'] })).path);
      const endedGrant = await issue({ keyId: randomUUID(), principals: ['deploy-ops'] });
      await refusedBecause(server, endedGrant.path, /\(command\): processed 0\/0 lines[\s\S]*Certificate does not contain an authorized principal/);
      const loginNameOnly = await issue({ keyId: liveGrant, principals: [SSH_TEST_USER] });
      await refusedBecause(server, loginNameOnly.path, /Certificate does not contain an authorized principal/);
    } finally {
      await server.stop();
    }
  });

  it('an AuthorizedPrincipalsFile written by principalsFileContent decides who may log in', async () => {
    const server = await startSshd({ trustedCaKeys: [caNewPublic], principals: { kind: 'file', byUser: { [SSH_TEST_USER]: ['deploy-ops'] } } });
    try {
      await logsIn(server, (await issue({ keyId: randomUUID(), principals: ['deploy-ops'] })).path);
      await refusedBecause(server, (await issue({ keyId: randomUUID(), principals: ['db-read'] })).path, /Certificate does not contain an authorized principal/);
    } finally {
      await server.stop();
    }
  });

  it('the CA private key never appears in the certificate or in any error message', async () => {
    const privateText = readFileSync(caNew.privatePath, 'utf8');
    const seed = ed25519Seed(privateText);
    // The seed really is the CA's secret: it derives the CA's public key (else this test would prove nothing).
    const derived = createPublicKey(createPrivateKey({ key: Buffer.concat([ED25519_PKCS8_PREFIX, seed]), format: 'der', type: 'pkcs8' }));
    assert.equal(Buffer.from(derived.export({ format: 'jwk' }).x ?? '', 'base64url').toString('base64'), Buffer.from(caNewPublic.split(' ')[1] ?? '', 'base64').subarray(-32).toString('base64'));
    const secretForms = [seed.toString('base64').slice(0, 40), seed.toString('hex'), ...privateText.split('\n').filter((line) => line.length > 40)];
    const leaks = (text: string) => secretForms.filter((form) => text.includes(form));

    const signed = await issue({ keyId: randomUUID() });
    assert.deepEqual(leaks(`${signed.certificate}\n${withBigints(await inspectCertificate(signed.certificate))}`), []);

    const worldReadable = join(dir, 'ca-world-readable');
    copyFileSync(caNew.privatePath, worldReadable);
    chmodSync(worldReadable, 0o644);
    const publicOnly = join(dir, 'ca-public-only');
    copyFileSync(caNew.publicPath, publicOnly);
    chmodSync(publicOnly, 0o600);
    const encrypted = join(dir, 'ca-encrypted');
    spawnSync('/usr/bin/ssh-keygen', ['-q', '-t', 'ed25519', '-N', 'a passphrase', '-f', encrypted]);
    const request = { caKeyPath: caNew.privatePath, publicKey: user.publicKey, keyId: randomUUID(), principals: [SSH_TEST_USER], ...certificateWindow({ now: new Date(), grantStartsAt: new Date(0), grantEndsAt: null }), serial: 999 };
    const failures: [string, () => Promise<unknown>, RegExp][] = [
      ['the private key sent as the public key', () => signUserCertificate({ ...request, publicKey: privateText }), /is a private key/],
      ['a CA key file others can read', () => signUserCertificate({ ...request, caKeyPath: worldReadable }), /accessible to other users/],
      ['a passphrase-protected CA key', () => signUserCertificate({ ...request, caKeyPath: encrypted }), /not an unencrypted OpenSSH private key/],
      ['a public key file named as the CA key', () => signUserCertificate({ ...request, caKeyPath: publicOnly }), /not an unencrypted OpenSSH private key/],
      ['a missing CA key file', () => signUserCertificate({ ...request, caKeyPath: join(dir, 'missing') }), /cannot be read \(ENOENT\)/],
      ['the private key asked for a fingerprint', () => fingerprintOf(privateText), /is a private key/],
      ['the private key given as a KRL CA', () => buildKrl({ caPublicKeys: [privateText], revoked: [{ keyId: 'g1' }], outPath: join(dir, 'krl') }), /is a private key/],
      ['the private key read as a certificate', () => inspectCertificate(privateText), /is not an OpenSSH certificate/],
    ];
    for (const [story, attempt, message] of failures) {
      await assert.rejects(attempt, (error: unknown) => {
        assert.ok(error instanceof TenureError, `${story}: ${String(error)}`);
        assert.match(error.message, message, story);
        assert.deepEqual(leaks(`${error.message}\n${error.stack ?? ''}\n${withBigints(error.details)}`), [], `${story} leaks the key`);
        return true;
      });
    }
  });

  it('a malformed public key is refused with a clear error', async () => {
    const [type = '', blob = ''] = user.publicKey.split(' ');
    const rsa = join(dir, 'weak-rsa');
    spawnSync('/usr/bin/ssh-keygen', ['-q', '-t', 'rsa', '-b', '1024', '-N', '', '-f', rsa]);
    const certificate = (await issue({ keyId: randomUUID() })).certificate;
    const cases: [string, string, RegExp][] = [
      ['nothing', '  ', /is empty/],
      ['a sentence', 'please let me in', /not an OpenSSH public key of a supported type/],
      ['key data that is not base64', `${type} AAAA!!!!`, /not base64/],
      ['key data cut short', `${type} ${blob.slice(0, 40)}`, /does not parse as a ssh-ed25519 key/],
      ['key data of another type', `ssh-rsa ${blob}`, /does not parse as a ssh-rsa key/],
      ['a certificate', certificate, /is a certificate/],
      ['two keys', `${user.publicKey}\n${user.publicKey}`, /exactly one line/],
      ['a DSA key', 'ssh-dss AAAAB3NzaC1kc3MAAACBAP', /supported type/],
      ['a 1024-bit RSA key', readFileSync(`${rsa}.pub`, 'utf8'), /at least 2048 bits/],
    ];
    for (const [story, publicKey, message] of cases) {
      await assert.rejects(issue({ keyId: randomUUID(), publicKey }), refusal('publicKey', message, 'ssh.public_key_invalid'), story);
    }
  });

  it('unsafe principals, key ids, serials, windows and extensions are refused before anything is signed', async () => {
    const now = Date.now();
    const cases: [Partial<SignRequest>, string, RegExp][] = [
      [{ principals: [] }, 'principals', /at least one principal/],
      [{ principals: ['root,admin'] }, 'principals', /not a safe principal/],
      [{ principals: ['deploy ops'] }, 'principals', /not a safe principal/],
      [{ principals: ['*'] }, 'principals', /not a safe principal/],
      [{ principals: ['-oProxyCommand=x'] }, 'principals', /not a safe principal/],
      [{ principals: ['ops\nroot'] }, 'principals', /not a safe principal/],
      [{ keyId: 'grant#1' }, 'keyId', /must be a grant id/],
      [{ serial: 0 }, 'serial', /between 1 and 2\^64-1/],
      [{ serial: 1.5 }, 'serial', /whole number/],
      [{ validAfter: new Date(now), validBefore: new Date(now) }, 'validBefore', /after validAfter/],
      [{ validAfter: new Date(now), validBefore: new Date(now + 25 * HOUR) }, 'validBefore', /at most 24 hours/],
      [{ extensions: ['permit-everything' as 'permit-pty'] }, 'extensions', /is not one of/],
    ];
    for (const [request, field, message] of cases) {
      await assert.rejects(issue({ keyId: randomUUID(), ...request }), refusal(field, message), field);
    }
  });
});
