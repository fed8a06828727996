import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { eq } from 'drizzle-orm';
import type { FastifyInstance } from 'fastify';
import { parse, stringify } from 'yaml';
import { loadHttpConfig } from '../src/config.js';
import { connectorFor } from '../src/connectors/registry.js';
import { buildApp } from '../src/http/app.js';
import { runLifecycleTick } from '../src/jobs/lifecycle.js';
import { runProvisioningPass } from '../src/jobs/provisioning/index.js';
import { createToken } from '../src/operations/create-token.js';
import { provisioningSettings } from '../src/operations/lib/provisioning/settings.js';
import { reconcileSystems } from '../src/operations/reconcile-system.js';
import { revokeGrant } from '../src/operations/revoke-grant.js';
import { signSshCertificate } from '../src/operations/sign-ssh-certificate.js';
import { sshPrincipals } from '../src/operations/ssh-principals.js';
import { inspectCertificate, isRevoked, readCaPublicKey, signUserCertificate } from '../src/ssh/certificate-authority.js';
import { readRevocationList } from '../src/ssh/revocation-list.js';
import { auditEvents, grants } from '../src/store/schema.js';
import { sshCertificates } from '../src/store/schema-ssh.js';
import { refusedWith } from './support/assert.js';
import { freshStore } from './support/backends.js';
import { grantThrough } from './support/flows.js';
import { applyPolicyText } from './support/provisioning-world.js';
import { SSH_TEST_USER, generateKeyPair, isRoot, startSshd, trySsh, type Sshd } from './support/sshd.js';
import { buildWorld, HOUR, LIFECYCLE_POLICY, type World } from './support/world.js';

const TENURE_BIN = fileURLToPath(new URL('../bin/tenure.mjs', import.meta.url));
/** Every login runs `tenure ssh principals` (a Node process through tsx) before sshd answers. */
const LOGIN_TIMEOUT_MS = 60_000;

type KeyPair = ReturnType<typeof generateKeyPair>;
let dir: string;
let caOld: KeyPair;
let caNew: KeyPair;
let user: KeyPair;
let w: World;
let app: FastifyInstance;
let server: string;
let sshd: Sshd;

/**
 * The lifecycle policy with a bastion whose connector is Tenure's SSH CA, during a rotation from
 * caOld to caNew. The service account `bot` (owned by Tom) holds the checker role, as sshd's caller.
 */
const sshPolicy = (krlPath: string): string => {
  const doc = parse(readFileSync(LIFECYCLE_POLICY, 'utf8')) as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- a YAML document edited in place
  doc.roles.checker = ['bot'];
  doc.systems.bastion = {
    name: 'Bastion hosts', business_owner: 'olivia', technical_owner: 'tom', criticality: 'high',
    connector: { type: 'ssh-ca', ca_key: `file:${caNew.privatePath}`, previous_ca_keys: [`file:${caOld.publicPath}`], krl_path: krlPath, max_ttl: '4h' },
    entitlements: { deploy: { name: 'Deploy account', tier: 'standard', target: SSH_TEST_USER } },
  };
  return stringify(doc);
};

/**
 * What production does: sshd clears the environment of AuthorizedPrincipalsCommand, so a small
 * root-owned wrapper names the server and reads the checker's token from a file only the command's
 * user can read, then runs the real CLI.
 */
const principalsWrapper = (url: string): string => [
  '#!/bin/sh',
  `TENURE_SERVER='${url}' TENURE_TOKEN="$(cat "$(dirname "$0")/principals-token")" exec /usr/bin/node ${TENURE_BIN} ssh principals "$@"`,
  '',
].join('\n');

const tenure = (args: string[], env: Record<string, string>) => new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
  execFile('/usr/bin/node', [TENURE_BIN, ...args], { env: { PATH: '/usr/bin:/bin', ...env }, cwd: dir, timeout: 60_000 },
    (error, stdout, stderr) => resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }));
});

const saved = (name: string, certificate: string) => {
  const path = join(dir, `${name}-cert.pub`);
  writeFileSync(path, `${certificate}\n`, { mode: 0o600 });
  return path;
};
const login = (certificateFile: string) =>
  trySsh({ port: sshd.port, user: SSH_TEST_USER, identityFile: user.privatePath, certificateFile, timeoutMs: LOGIN_TIMEOUT_MS });
const logsIn = async (certificateFile: string) => {
  const attempt = await login(certificateFile);
  assert.equal(attempt.ok, true, `sshd refused the certificate: ${attempt.stderr}`);
};
/** Refused, and for the reason sshd's own log gives. */
const refusedBecause = async (certificateFile: string, reason: RegExp) => {
  const mark = sshd.logMark();
  assert.equal((await login(certificateFile)).ok, false, 'sshd let the certificate in');
  await sshd.waitForLog(reason, mark);
};

const deployGrant = (duration: string) =>
  grantThrough(w, 'carl', { entitlement: 'bastion/deploy', justification: 'release night', duration }, ['sam', 'olivia', 'selma']);
const sign = async (grant: string, ttl?: string) =>
  signSshCertificate(await w.as('carl'), { grant, publicKey: user.publicKey, ...(ttl ? { ttl } : {}) });
const grantRow = async (id: string) => (await w.store.db.select().from(grants).where(eq(grants.id, id)))[0]!;

describe('Tenure as the SSH certificate authority of a real sshd', { skip: isRoot() ? false : 'needs root: sshd and a login user' }, () => {
  let live: string;
  let liveCertificate: string;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tenure-ssh-tenure-'));
    [caOld, caNew, user] = [generateKeyPair(dir, 'ca-old'), generateKeyPair(dir, 'ca-new'), generateKeyPair(dir, 'user')];
    w = await buildWorld(await freshStore('embedded'), new Date());
    app = await buildApp({ store: w.store, clock: w.clock, http: loadHttpConfig({}) });
    await app.listen({ port: 0, host: '127.0.0.1' });
    const address = app.server.address();
    server = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
    sshd = await startSshd({
      trustedCaKeys: [await readCaPublicKey(caNew.privatePath), await readCaPublicKey(caOld.privatePath)],
      // As root in the test only: the repository may sit in a private directory (a CI clone under a
      // 0700 temp dir) that a dedicated user such as nobody cannot enter. Production uses a dedicated
      // user and an installed tenure (docs/connectors-ssh.md).
      principals: { kind: 'command', script: principalsWrapper(server), args: '%u %i', runAs: 'root' },
    });
    await applyPolicyText(w, sshPolicy(sshd.krlPath));
    const checkerToken = (await createToken(await w.as('tom'), { name: 'sshd on bastion', identity: 'bot', scopes: ['check'] })).secret;
    writeFileSync(join(sshd.dir, 'principals-token'), checkerToken, { mode: 0o400 });
  });
  after(async () => {
    await sshd?.stop();
    await app?.close();
    await w?.store.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('a contractor with an approved grant logs in with the certificate Tenure signs for him', async () => {
    live = await deployGrant('1h');
    await runProvisioningPass(w.worker);
    assert.equal((await grantRow(live)).provisioningState, 'provisioned', 'nothing to create: certificates are issued on demand');
    const issued = await sign(live);
    liveCertificate = saved('live', issued.certificate);
    const details = await inspectCertificate(issued.certificate);
    assert.deepEqual([details.keyId, details.principals, details.serial.toString()], [live, [SSH_TEST_USER], issued.serial]);
    await logsIn(liveCertificate);

    const [row] = await w.store.db.select().from(sshCertificates).where(eq(sshCertificates.grantId, live));
    assert.equal(row!.serial, BigInt(issued.serial));
    assert.match(row!.publicKeyFingerprint, /^SHA256:/);
    const events = await w.store.db.select().from(auditEvents).where(eq(auditEvents.action, 'ssh.certificate_issued'));
    assert.equal(events.length, 1);
    assert.ok(events[0]!.canonical.includes(row!.publicKeyFingerprint), 'the audit names the key by its fingerprint');
    assert.ok(!events[0]!.canonical.includes(user.publicKey.split(' ')[1]!), 'and never records the key itself');
  });

  it('a certificate never outlives its grant, whatever validity is asked for, and lives at most the system\'s max_ttl', async () => {
    const grant = await grantRow(live);
    const asked = await sign(live, '4h');
    assert.equal(new Date(asked.validBefore).getTime(), Math.floor(grant.endsAt!.getTime() / 1000) * 1000, 'it ends with the grant');
    const short = await sign(live, '10m');
    assert.equal(new Date(short.validBefore).getTime(), Math.floor((w.clock.now().getTime() + 10 * 60_000) / 1000) * 1000);
    assert.notEqual(asked.serial, short.serial, 'every certificate has its own serial');
  });

  it('nobody signs a certificate for someone else\'s grant, not even the administrator, and only ssh-ca grants get one', async () => {
    const publicKey = user.publicKey;
    await refusedWith(signSshCertificate(await w.as('ada'), { grant: live, publicKey }), 'actor.forbidden', 'grant');
    await refusedWith(signSshCertificate(await w.as('sam'), { grant: live, publicKey }), 'grant.not_found', 'grant');
    await refusedWith(signSshCertificate(await w.as('eve'), { grant: live, publicKey }), 'grant.not_found', 'grant');
    const payments = await grantThrough(w, 'carl', { entitlement: 'payments/read', justification: 'report', duration: '1d' }, ['sam', 'olivia']);
    await refusedWith(sign(payments), 'ssh.not_an_ssh_system', 'grant');
    await refusedWith(signSshCertificate(await w.as('carl'), { grant: live, publicKey: readFileSync(user.privatePath, 'utf8') }),
      'ssh.public_key_invalid', 'publicKey');
  });

  it('tenure ssh sign over the API writes the certificate where ssh looks for it', async () => {
    const token = (await createToken(await w.as('carl'), { name: 'laptop', scopes: ['write'] })).secret;
    const result = await tenure(['--json', 'ssh', 'sign', '--grant', live, '--public-key', user.publicPath, '--ttl', '30m'],
      { TENURE_SERVER: server, TENURE_TOKEN: token });
    assert.equal(result.code, 0, result.stderr);
    const written = readFileSync(join(dir, 'user-cert.pub'), 'utf8');
    assert.equal((JSON.parse(result.stdout) as { file: string }).file, join(dir, 'user-cert.pub'));
    assert.equal((await inspectCertificate(written)).keyId, live);
  });

  it('a certificate records MFA only when the credential that asked for it stood on the holder\'s own MFA sign-in', async () => {
    const carl = await w.as('carl');
    // A token minted from a web session whose sign-in used MFA, as finish-sign-in opens one.
    const withMfa = await createToken({ ...carl, actor: { id: carl.actor.id, channel: 'web', mfa: true } }, { name: 'mfa laptop', scopes: ['write'] });
    const without = await createToken(carl, { name: 'plain laptop', scopes: ['write'] });
    const viaApi = async (secret: string) => {
      const response = await fetch(`${server}/v1/ssh/certificates`, { method: 'POST', body: JSON.stringify({ grant: live, publicKey: user.publicKey }),
        headers: { authorization: `Bearer ${secret}`, 'content-type': 'application/json' } });
      assert.equal(response.status, 201, await response.clone().text());
      const issued = await response.json() as { serial: string; mfa: boolean };
      assert.equal(issued.mfa, secret === withMfa.secret, 'the answer says so too');
      return issued.serial;
    };
    const mfaOf = async (serial: string) =>
      (await w.store.db.select({ mfa: sshCertificates.mfa }).from(sshCertificates).where(eq(sshCertificates.serial, BigInt(serial))))[0]!.mfa;
    assert.deepEqual([withMfa.mfa, without.mfa], [true, false]);
    assert.equal(await mfaOf(await viaApi(withMfa.secret)), true);
    assert.equal(await mfaOf(await viaApi(without.secret)), false);
    assert.equal(await mfaOf((await sign(live)).serial), false, 'the local CLI has no sign-in, so no MFA');
  });

  it('tenure ssh principals refuses to answer from a local database, since sshd must ask the running service', async () => {
    const result = await tenure(['ssh', 'principals', SSH_TEST_USER, live], { TENURE_DATA_DIR: join(dir, 'no-database') });
    assert.equal(result.code, 2);
    assert.match(result.stderr, /server\.required/);
    assert.equal(result.stdout, '');
  });

  it('sshd refuses the certificate right after the revocation, before any KRL is written, because Tenure stops listing the principal', async () => {
    const checker = await w.as('bot');
    assert.deepEqual(await sshPrincipals(checker, { user: SSH_TEST_USER, keyId: live }), { principals: [SSH_TEST_USER] });
    assert.deepEqual(await sshPrincipals(checker, { user: 'root', keyId: live }), { principals: [] }, 'only the grant\'s own account');
    assert.deepEqual(await sshPrincipals(checker, { user: SSH_TEST_USER }), { principals: [] }, 'no key id, no principals');
    await refusedWith(sshPrincipals(await w.as('carl'), { user: SSH_TEST_USER, keyId: live }), 'actor.forbidden');

    await revokeGrant(await w.as('sam'), { grant: live, reason: 'release done' });
    assert.equal(await isRevoked(sshd.krlPath, liveCertificate), false, 'the KRL does not know yet');
    await refusedBecause(liveCertificate, /\(command\): processed 0\/0 lines[\s\S]*Certificate does not contain an authorized principal/);
  });

  it('once the worker runs, the KRL revokes the grant id, the read-back proves it, and sshd refuses the certificate as revoked', async () => {
    await runProvisioningPass(w.worker);
    const grant = await grantRow(live);
    assert.equal(grant.provisioningState, 'deprovisioned');
    assert.equal((grant.provisioningEvidence as { readBack: string }).readBack, 'absent');
    assert.deepEqual(readRevocationList(sshd.krlPath).map((entry) => entry.keyId), [live]);
    assert.equal(await isRevoked(sshd.krlPath, liveCertificate), true);
    await refusedBecause(liveCertificate, /revoked by file/);
  });

  it('during a CA rotation, a certificate the previous CA signed for a revoked grant is refused too', async () => {
    const grant = await deployGrant('1h');
    const now = w.clock.now();
    const fromOldCa = await signUserCertificate({ caKeyPath: caOld.privatePath, publicKey: user.publicKey, keyId: grant, principals: [SSH_TEST_USER],
      validAfter: new Date(now.getTime() - 60_000), validBefore: new Date(now.getTime() + HOUR), serial: 9_000_001 });
    const path = saved('old-ca', fromOldCa.certificate);
    await logsIn(path);
    const connector = connectorFor((await provisioningSettings(w.store.db)).systems.bastion)!;
    const asConnectorSees = { grantId: grant, identityHandle: 'carl', entitlementKey: 'bastion/deploy', targetName: SSH_TEST_USER,
      startsAt: now, endsAt: null, accountEndsAt: null, lastOnSystem: true };
    assert.equal(await connector.holds!(asConnectorSees), true);

    await revokeGrant(await w.as('carl'), { grant, reason: 'not needed' });
    await runProvisioningPass(w.worker);
    assert.equal(await connector.holds!(asConnectorSees), false, 'revoked under the old CA as under the new one');
    assert.equal((await connector.check()).ok, true, (await connector.check()).detail);
    await refusedBecause(path, /revoked by file/);
    await refusedWith(reconcileSystems(await w.as('ivan'), { system: 'bastion' }), 'reconcile.no_connector', 'system');
  });

  it('a certificate whose grant expires is refused once the lifecycle ends the grant and the worker writes the KRL', async () => {
    const grant = await deployGrant('2h');
    const path = saved('expiring', (await sign(grant)).certificate);
    await logsIn(path);
    // Tenure's clock moves past the grant's end; the certificate, valid in real time until then, is still unexpired for sshd.
    w.clock.advance(3 * HOUR);
    await runLifecycleTick(w.worker);
    await runProvisioningPass(w.worker);
    assert.equal((await grantRow(grant)).status, 'expired');
    assert.equal((await grantRow(grant)).provisioningState, 'deprovisioned');
    await refusedBecause(path, /revoked by file/);
    await refusedWith(sign(grant), 'grant.already_ended', 'grant');
  });
});
