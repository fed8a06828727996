import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { chmodSync, copyFileSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { ConnectorGrant } from '../src/connectors/contract.js';
import { SshCaConnector } from '../src/connectors/ssh-ca.js';
import { connectorSchema } from '../src/policy/connector-schema.js';
import { readCaPublicKey } from '../src/ssh/certificate-authority.js';
import { checkKeyIdRevoked } from '../src/ssh/revocation-check.js';
import { changeRevocations, readRevocationList } from '../src/ssh/revocation-list.js';
import { generateKeyPair } from './support/sshd.js';

const HOUR = 3_600_000;
type KeyPair = ReturnType<typeof generateKeyPair>;

const grantFor = (grantId: string): ConnectorGrant => ({
  grantId, identityHandle: 'carl', entitlementKey: 'bastion/deploy', targetName: 'deploy', startsAt: new Date(), endsAt: null,
  accountEndsAt: null, lastOnSystem: true,
});

describe('the ssh-ca connector and its revocation list (ssh-keygen, no sshd)', () => {
  let dir: string;
  let caOld: KeyPair;
  let caNew: KeyPair;
  let krlPath: string;
  let connector: SshCaConnector;

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'tenure-ssh-connector-'));
    [caOld, caNew] = [generateKeyPair(dir, 'ca-old'), generateKeyPair(dir, 'ca-new')];
    krlPath = join(dir, 'revoked.krl');
    connector = new SshCaConnector({ caKeyPath: caNew.privatePath, previousCaKeyPaths: [caOld.publicPath], krlPath, principals: ['deploy'] });
  });
  after(() => { if (dir) rmSync(dir, { recursive: true, force: true }); });

  it('provisioning writes a missing KRL, since sshd refuses every login without one, and changes nothing else', async () => {
    assert.equal(existsSync(krlPath), false);
    assert.deepEqual(await connector.provision(grantFor(randomUUID())), { changed: false });
    assert.equal(existsSync(krlPath), true);
    assert.deepEqual(await connector.listAccess(), []);
    assert.equal((await connector.check()).ok, true);
  });

  it('deprovisioning revokes the grant id under every trusted CA, and doing it again changes nothing', async () => {
    const grant = grantFor(randomUUID());
    assert.equal(await connector.holds(grant), true);
    assert.deepEqual(await connector.deprovision(grant), { changed: true });
    assert.deepEqual(await connector.deprovision(grant), { changed: false });
    assert.equal(await connector.holds(grant), false);
    assert.deepEqual(await connector.provision(grant), { changed: false });
    assert.equal(await connector.holds(grant), false, 'a provision never takes a revocation back');
  });

  it('concurrent revocations lose none of the grant ids', async () => {
    const ids = Array.from({ length: 8 }, () => randomUUID());
    const outcomes = await Promise.all(ids.map((id) => connector.deprovision(grantFor(id))));
    assert.ok(outcomes.every((outcome) => outcome.changed));
    const listed = new Set(readRevocationList(krlPath).map((entry) => entry.keyId));
    assert.ok(ids.every((id) => listed.has(id)));
    const otherCaPublicKeys = [await readCaPublicKey(caOld.privatePath)];
    for (const keyId of ids) {
      assert.deepEqual(await checkKeyIdRevoked({ krlPath, caKeyPath: caNew.privatePath, otherCaPublicKeys, keyId }), { revoked: true, notRevokedFor: [] });
    }
  });

  it('a key id revoked more than a day ago leaves the list, since every certificate of its grant has expired by then', async () => {
    const caPublicKeys = [await readCaPublicKey(caNew.privatePath)];
    const old = randomUUID();
    const path = join(dir, 'pruned.krl');
    await changeRevocations({ krlPath: path, caPublicKeys, add: [old], now: new Date(Date.now() - 26 * HOUR) });
    const recent = randomUUID();
    await changeRevocations({ krlPath: path, caPublicKeys, add: [recent] });
    assert.deepEqual(readRevocationList(path).map((entry) => entry.keyId), [recent]);
  });

  it('check() says why a CA key cannot be used, without reading it out', async () => {
    const exposed = join(dir, 'ca-exposed');
    copyFileSync(caNew.privatePath, exposed);
    chmodSync(exposed, 0o644);
    const bad = new SshCaConnector({ caKeyPath: exposed, previousCaKeyPaths: [join(dir, 'missing.pub')], krlPath: join(dir, 'nowhere', 'krl'),
      principals: ['deploy', 'root,admin'] });
    const result = await bad.check();
    assert.equal(result.ok, false);
    for (const reason of [/accessible to other users/, /missing\.pub cannot be read/, /cannot write in/, /not safe principals/]) assert.match(result.detail, reason);
    await assert.rejects(bad.deprovision(grantFor(randomUUID())), { code: 'ssh.ca_key_invalid' });
  });

  it('the policy names the CA key only as a file: reference, and certificates live at most a day', () => {
    const base = { type: 'ssh-ca', ca_key: `file:${caNew.privatePath}`, krl_path: krlPath };
    assert.deepEqual(connectorSchema.parse(base), { ...base, previous_ca_keys: [], max_ttl_ms: 8 * HOUR });
    assert.equal(connectorSchema.safeParse({ ...base, ca_key: caNew.privatePath }).success, false);
    assert.equal(connectorSchema.safeParse({ ...base, ca_key: 'env:TENURE_CA_KEY' }).success, false);
    assert.equal(connectorSchema.safeParse({ ...base, krl_path: 'revoked.krl' }).success, false);
    assert.equal(connectorSchema.safeParse({ ...base, max_ttl: '25h' }).success, false);
    assert.equal(connectorSchema.safeParse({ ...base, max_ttl: '24h' }).success, true);
  });
});
