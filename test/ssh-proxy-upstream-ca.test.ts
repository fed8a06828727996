import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
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
import { sql } from 'drizzle-orm';
import { rawRows } from '../src/store/database.js';
import { refusedWith } from './support/assert.js';
import { grantThrough } from './support/flows.js';
import { applyPolicyText } from './support/provisioning-world.js';
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
  upstreamKeyPath: p.keys.upstream.privatePath, mfa: false, forwarding, fileTransfer: true,
});

const LOOPBACK = ['127.0.0.1'];

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
    const presented = new RegExp(`attempting public key (ssh-ed25519-cert-v01@openssh.com \\S+)`).exec(log)?.[1];
    assert.ok(presented, 'sshd logs the certificate the proxy presented');
    assert.deepEqual((await inspectCertificate(presented)).criticalOptions, ['source-address 127.0.0.1'],
      'usable only from the address the proxy\'s connection left from');
  });

  it('mints for the account alone, from the proxy\'s address, with a terminal and nothing more, valid only minutes around now', async () => {
    const now = new Date();
    const details = await inspectCertificate(await mintUpstreamCertificate(p.w.store, upstreamCa.privatePath, loginFor(), 'session-1', ['10.0.0.7'], now));
    assert.equal(details.keyId, 'tenure:carl:session:session-1');
    assert.deepEqual(details.principals, [SSH_TEST_USER]);
    assert.deepEqual(details.extensions, ['permit-pty']);
    assert.deepEqual(details.criticalOptions, ['source-address 10.0.0.7']);
    assert.ok(details.serial > 0n);
    const second = Math.floor(now.getTime() / 1000) * 1000;
    assert.equal(details.validAfter?.getTime(), second - UPSTREAM_CERTIFICATE_BEFORE_MS);
    assert.equal(details.validBefore?.getTime(), second + UPSTREAM_CERTIFICATE_AFTER_MS);
    const forwarding = await inspectCertificate(await mintUpstreamCertificate(p.w.store, upstreamCa.privatePath, loginFor(['127.0.0.1:5432']), 's', ['10.0.0.0/24', 'fd00::7'], now));
    assert.deepEqual([...forwarding.extensions].sort(), ['permit-port-forwarding', 'permit-pty'], 'sshd forwards for a certificate only with it');
    assert.notEqual(forwarding.serial, details.serial);
    assert.deepEqual(forwarding.criticalOptions, ['source-address 10.0.0.0/24,fd00::7']);
  });

  it('lets a freshly minted certificate in straight from the upstream key, and refuses one minted minutes ago', async () => {
    assert.equal((await asProxy(await mintUpstreamCertificate(p.w.store, upstreamCa.privatePath, loginFor(), 'fresh', LOOPBACK))).ok, true);
    const old = new Date(Date.now() - UPSTREAM_CERTIFICATE_AFTER_MS - 60_000);
    const mark = p.sshd.logMark();
    const attempt = await asProxy(await mintUpstreamCertificate(p.w.store, upstreamCa.privatePath, loginFor(), 'old', LOOPBACK, old));
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
      const client = await openUpstream(login, 10_000, (from) => mintUpstreamCertificate(p.w.store, upstreamCa.privatePath, login, type, [from]));
      client.end();
      await p.sshd.waitForLog(new RegExp(`Accepted publickey for ${SSH_TEST_USER} .* ${type.toUpperCase()}-CERT .* ID tenure:carl:session:${type} `), mark);
    }
  });

  it('refuses a freshly minted certificate whose source address is not where the connection comes from', async () => {
    const mark = p.sshd.logMark();
    const attempt = await asProxy(await mintUpstreamCertificate(p.w.store, upstreamCa.privatePath, loginFor(), 'elsewhere', ['10.9.9.9', '192.168.0.0/16']));
    assert.equal(attempt.ok, false);
    assert.match(attempt.stderr, /Permission denied/);
    await p.sshd.waitForLog(/with valid certificate but not from a permitted source address \(127\.0\.0\.1\)/, mark);
  });

  it('puts TENURE_SSH_PROXY_SOURCE_ADDRESSES in its certificates when set: a list the host does not see the proxy come from keeps it out', async () => {
    // Carl's deploy grant of the first test.
    const [{ id: grant }] = await rawRows<{ id: string }>(p.w.store.db, sql`
      SELECT g.id FROM grants g JOIN entitlements e ON e.id = g.entitlement_id WHERE e.key = 'bastion/deploy' AND g.status = 'active'`) as [{ id: string }];
    const certificate = await certify(p, grant);
    for (const [listed, ok] of [['10.9.9.9', false], ['127.0.0.0/8,10.9.9.9', true]] as const) {
      const config = loadSshProxyConfig({ TENURE_SSH_PROXY_HOST_KEY: p.keys.upstream.privatePath, TENURE_SSH_PROXY_UPSTREAM_CA_KEY: upstreamCa.privatePath,
        TENURE_SSH_PROXY_SOURCE_ADDRESSES: listed });
      const errors: Error[] = [];
      const other = await SshProxyServer.start({ ctx: { store: p.w.store, clock: p.w.clock, actor: { id: undefined, channel: 'system' } }, decision: p.decision,
        config, host: '127.0.0.1', port: 0, onError: (e) => errors.push(e) });
      const mark = p.sshd.logMark();
      const run = await ssh({ port: other.address().port, key: p.keys.carl, login: LOGIN, certificate, command: 'echo in' });
      await other.stop();
      assert.equal(run.ok, ok, `${listed}: ${run.stderr}`);
      if (!ok) {
        await p.sshd.waitForLog(/not from a permitted source address \(127\.0\.0\.1\)/, mark);
        assert.match(errors.map((e) => e.message).join('\n'), /ssh proxy: web1: /, 'the proxy says the host refused it');
      }
    }
  });

  it('refuses a source address list that is not addresses, or that no certificate would carry, naming the setting', () => {
    const base = { TENURE_SSH_PROXY_HOST_KEY: p.keys.upstream.privatePath, TENURE_SSH_PROXY_UPSTREAM_CA_KEY: upstreamCa.privatePath };
    assert.deepEqual(loadSshProxyConfig({ ...base, TENURE_SSH_PROXY_SOURCE_ADDRESSES: ' 10.0.0.7, fd00::/64 ' }).sourceAddresses, ['10.0.0.7', 'fd00::/64']);
    assert.equal(loadSshProxyConfig(base).sourceAddresses, undefined, 'unset: each connection\'s own address');
    for (const [value, rule] of [['10.0.0.7,proxy.example.com', /'proxy\.example\.com' is not an IP address or CIDR/], ['10.0.0.0/33', /is not an IP address or CIDR/],
      [' , ', /names no address/]] as const) {
      assert.throws(() => loadSshProxyConfig({ ...base, TENURE_SSH_PROXY_SOURCE_ADDRESSES: value }),
        (e: Error & { code?: string; field?: string }) => e.code === 'input.invalid' && /^TENURE_SSH_PROXY_SOURCE_ADDRESSES: /.test(e.message) && rule.test(e.message));
    }
    assert.throws(() => loadSshProxyConfig({ TENURE_SSH_PROXY_HOST_KEY: p.keys.upstream.privatePath, TENURE_SSH_PROXY_SOURCE_ADDRESSES: '10.0.0.7' }),
      /only a minted certificate carries a source address; set TENURE_SSH_PROXY_UPSTREAM_CA_KEY too/);
  });

  it('does not start when the upstream CA is the user CA that certifies people\'s keys, naming both settings', async () => {
    // The same key under another name, as someone might copy it for the proxy.
    const copy = join(caDir, 'upstream-ca-copy');
    copyFileSync(p.keys.ca.privatePath, copy);
    chmodSync(copy, 0o600);
    const refused = await refusedWith(SshProxyServer.start({ ctx: await p.w.as('ada'), decision: p.decision, host: '127.0.0.1', port: 0,
      config: loadSshProxyConfig({ TENURE_SSH_PROXY_HOST_KEY: p.keys.upstream.privatePath, TENURE_SSH_PROXY_UPSTREAM_CA_KEY: copy }) }), 'ssh.upstream_ca_is_user_ca');
    assert.equal(refused.message.split(', which certifies')[0],
      `TENURE_SSH_PROXY_UPSTREAM_CA_KEY (${copy}) is the same key as the user CA systems.bastion.connector.ca_key (${p.keys.ca.privatePath})`);
    assert.match(refused.message, /bypassing the proxy/);
  });

  it('attacker: a policy applied after the proxy started that names its upstream CA as the user CA certifies nobody with it', async () => {
    // Carl's grant of the first case, still active.
    const [{ id: grant }] = await rawRows<{ id: string }>(p.w.store.db, sql`SELECT g.id FROM grants g JOIN identities i ON i.id = g.identity_id
      WHERE i.handle = 'carl' AND g.status = 'active'`) as [{ id: string }];
    const issued = async () => (await rawRows<{ n: number }>(p.w.store.db, sql`SELECT count(*)::int AS n FROM ssh_certificates`))[0]!.n;
    const before = await issued();
    const policy = p.policy();
    assert.ok(policy.includes(p.keys.ca.privatePath));
    await applyPolicyText(p.w, policy.replace(p.keys.ca.privatePath, upstreamCa.privatePath));
    try {
      const refused = await refusedWith(certify(p, grant), 'ssh.upstream_ca_is_user_ca');
      assert.match(refused.message, /is the upstream CA an SSH proxy has signed in to hosts with since .*bypassing the proxy/);
      assert.equal(await issued(), before, 'no certificate recorded, none handed out');
    } finally {
      await applyPolicyText(p.w, policy);
    }
    assert.ok(await certify(p, grant), 'the user CA of its own certifies him again');
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
