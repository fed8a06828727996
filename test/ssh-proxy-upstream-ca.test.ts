import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { SshProxyLogin } from '../src/operations/resolve-ssh-proxy-login.js';
import { loadSshProxyConfig } from '../src/proxy/ssh/config.js';
import { SshProxyServer } from '../src/proxy/ssh/server.js';
import {
  mintUpstreamCertificate, UPSTREAM_CERTIFICATE_AFTER_MS, UPSTREAM_CERTIFICATE_BEFORE_MS, upstreamKeyId,
} from '../src/proxy/ssh/upstream-certificate.js';
import { openUpstream } from '../src/proxy/ssh/upstream.js';
import { inspectCertificate, signUserCertificate } from '../src/ssh/certificate-authority.js';
import { refusedWith } from './support/assert.js';
import { grantThrough } from './support/flows.js';
import { allEnded } from './support/pg-proxy-world.js';
import { SSH_TEST_USER, generateKeyPair, isRoot, trySsh } from './support/sshd.js';
import { certify, LOGIN, ssh, startSshProxyWorld, type KeyPair, type SshProxyWorld } from './support/ssh-proxy-world.js';

/**
 * The SSH proxy signing in to the host with a certificate from a separate upstream CA, minted per
 * session (TENURE_SSH_PROXY_UPSTREAM_CA_KEY). The host's real sshd trusts that CA and nothing else
 * (no authorized_keys, no user CA): the proxy gets in, its log names the person and the session,
 * and neither the proxy's bare key, nor an expired minted certificate, nor the person's own
 * Tenure-issued certificate opens anything there.
 */
let p: SshProxyWorld;
let caDir: string;
let upstreamCa: KeyPair;

/** A login as the proxy resolves it, for minting outside a session. */
const loginFor = (forwarding: string[] = []): SshProxyLogin => ({
  identityId: 'x', handle: 'carl', grantId: 'x', systemId: 'x', systemKey: 'bastion', entitlementId: 'x', entitlementKey: 'deploy',
  account: SSH_TEST_USER, host: { name: 'web1', address: '127.0.0.1', port: p.sshd.port, hostKey: p.sshd.hostKey },
  upstreamKeyPath: p.keys.upstream.privatePath, mfa: false, forwarding,
});

/** The proxy's upstream key, with `certificate` if given, straight to the host. */
const asProxy = (certificate: string) => {
  const path = join(caDir, `upstream-${Date.now()}-cert.pub`);
  writeFileSync(path, `${certificate}\n`, { mode: 0o600 });
  return trySsh({ port: p.sshd.port, user: SSH_TEST_USER, identityFile: p.keys.upstream.privatePath, certificateFile: path });
};

describe('the SSH proxy signs in to hosts with a certificate from its upstream CA', { skip: isRoot() ? false : 'needs root: sshd and a login user' }, () => {
  before(async () => {
    caDir = mkdtempSync(join(tmpdir(), 'tenure-upstream-ca-'));
    upstreamCa = generateKeyPair(caDir, 'upstream-ca');
    p = await startSshProxyWorld({
      config: { upstreamCaKeyPath: upstreamCa.privatePath },
      // No authorized_keys at all: only a certificate the upstream CA signed, for the account's own name.
      sshd: () => ({ principals: { kind: 'file', byUser: { [SSH_TEST_USER]: [SSH_TEST_USER] } } }),
    });
    p.sshd.setTrustedCaKeys([upstreamCa.publicKey]);
  });
  after(async () => {
    await p?.stop();
    rmSync(caDir, { recursive: true, force: true });
    assert.deepEqual(p?.errors.map((e) => e.message) ?? [], [], 'the proxy reported no errors');
  });

  it('runs carl\'s command on the host, and the host\'s log names carl and the session by the certificate\'s key ID', async () => {
    const grant = await grantThrough(p.w, 'carl', { entitlement: 'bastion/deploy', justification: 'release', duration: '1d' }, ['sam', 'olivia', 'selma']);
    const certificate = await certify(p, grant);
    const mark = p.sshd.logMark();
    const run = await ssh({ port: p.proxy.address().port, key: p.keys.carl, login: LOGIN, certificate, command: 'echo "hello from $(id -un)"' });
    assert.equal(run.stdout, `hello from ${SSH_TEST_USER}\n`, run.stderr);
    const [session] = await allEnded(p.w.store);
    const keyId = upstreamKeyId('carl', session!.id);
    const log = await p.sshd.waitForLog(new RegExp(`Accepted publickey for ${SSH_TEST_USER} .* ID ${keyId} \\(serial \\d+\\) CA ED25519`), mark);
    assert.match(log, /ED25519-CERT/);
  });

  it('mints for the account alone, with a terminal and nothing more, valid only minutes around now', async () => {
    const now = new Date();
    const details = await inspectCertificate(await mintUpstreamCertificate(p.w.store, upstreamCa.privatePath, loginFor(), 'session-1', now));
    assert.equal(details.keyId, 'tenure:carl:session:session-1');
    assert.deepEqual(details.principals, [SSH_TEST_USER]);
    assert.deepEqual(details.extensions, ['permit-pty']);
    assert.deepEqual(details.criticalOptions, []);
    assert.ok(details.serial > 0n);
    const second = Math.floor(now.getTime() / 1000) * 1000;
    assert.equal(details.validAfter?.getTime(), second - UPSTREAM_CERTIFICATE_BEFORE_MS);
    assert.equal(details.validBefore?.getTime(), second + UPSTREAM_CERTIFICATE_AFTER_MS);
    const forwarding = await inspectCertificate(await mintUpstreamCertificate(p.w.store, upstreamCa.privatePath, loginFor(['127.0.0.1:5432']), 's', now));
    assert.deepEqual([...forwarding.extensions].sort(), ['permit-port-forwarding', 'permit-pty'], 'sshd forwards for a certificate only with it');
    assert.notEqual(forwarding.serial, details.serial);
  });

  it('lets a freshly minted certificate in straight from the upstream key, and refuses one minted minutes ago', async () => {
    assert.equal((await asProxy(await mintUpstreamCertificate(p.w.store, upstreamCa.privatePath, loginFor(), 'fresh'))).ok, true);
    const old = new Date(Date.now() - UPSTREAM_CERTIFICATE_AFTER_MS - 60_000);
    const mark = p.sshd.logMark();
    const attempt = await asProxy(await mintUpstreamCertificate(p.w.store, upstreamCa.privatePath, loginFor(), 'old', old));
    assert.equal(attempt.ok, false);
    assert.match(attempt.stderr, /Permission denied/);
    await p.sshd.waitForLog(/expired/i, mark);
  });

  it('signs in with an ECDSA or RSA upstream key too: the signature is named by the key (rsa-sha2-256 for RSA), not the certificate', async () => {
    for (const [type, bits] of [['ecdsa', '256'], ['rsa', '3072']] as const) {
      const keyPath = join(caDir, `upstream-${type}`);
      assert.equal(spawnSync('/usr/bin/ssh-keygen', ['-q', '-t', type, '-b', bits, '-N', '', '-f', keyPath]).status, 0);
      const login = { ...loginFor(), upstreamKeyPath: keyPath };
      const mark = p.sshd.logMark();
      const client = await openUpstream(login, 10_000, await mintUpstreamCertificate(p.w.store, upstreamCa.privatePath, login, type));
      client.end();
      await p.sshd.waitForLog(new RegExp(`Accepted publickey for ${SSH_TEST_USER} .* ${type.toUpperCase()}-CERT .* ID tenure:carl:session:${type} `), mark);
    }
  });

  it('refuses the proxy\'s upstream key without a certificate', async () => {
    const attempt = await ssh({ port: p.sshd.port, key: p.keys.upstream, login: SSH_TEST_USER, command: 'true' });
    assert.equal(attempt.ok, false);
    assert.match(attempt.stderr, /Permission denied/);
  });

  it('refuses carl\'s own certificate from Tenure\'s user CA, valid now and for the account, going straight to the host', async () => {
    const now = Date.now();
    const own = await signUserCertificate({ caKeyPath: p.keys.ca.privatePath, publicKey: p.keys.carl.publicKey, keyId: 'carl-grant',
      principals: [SSH_TEST_USER], validAfter: new Date(now - 60_000), validBefore: new Date(now + 3_600_000), serial: 9_000_001 });
    const path = join(caDir, 'carl-cert.pub');
    writeFileSync(path, `${own.certificate}\n`, { mode: 0o600 });
    const mark = p.sshd.logMark();
    const attempt = await trySsh({ port: p.sshd.port, user: SSH_TEST_USER, identityFile: p.keys.carl.privatePath, certificateFile: path });
    assert.equal(attempt.ok, false);
    assert.match(attempt.stderr, /Permission denied/);
    await p.sshd.waitForLog(/is not listed in/, mark);
  });

  it('takes the CA from TENURE_SSH_PROXY_UPSTREAM_CA_KEY, and does not start with one other users may read', async () => {
    const env = { TENURE_SSH_PROXY_HOST_KEY: p.keys.upstream.privatePath, TENURE_SSH_PROXY_UPSTREAM_CA_KEY: upstreamCa.privatePath };
    assert.equal(loadSshProxyConfig(env).upstreamCaKeyPath, upstreamCa.privatePath);
    assert.equal(loadSshProxyConfig({ TENURE_SSH_PROXY_HOST_KEY: p.keys.upstream.privatePath }).upstreamCaKeyPath, undefined, 'unset: the plain key');
    const exposed = generateKeyPair(caDir, 'exposed-ca');
    chmodSync(exposed.privatePath, 0o644);
    await refusedWith(SshProxyServer.start({ ctx: await p.w.as('ada'), decision: p.decision, host: '127.0.0.1', port: 0,
      config: loadSshProxyConfig({ ...env, TENURE_SSH_PROXY_UPSTREAM_CA_KEY: exposed.privatePath }) }), 'ssh.ca_key_invalid');
  });
});
