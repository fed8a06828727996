import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import type { ConnectorGrant } from '../src/connectors/contract.js';
import { PostgresRolesConnector } from '../src/connectors/postgres-roles.js';
import { resolveSecretRef } from '../src/connectors/secret-ref.js';
import { TenureError } from '../src/domain/errors.js';
import { connectorContract } from './support/connector-contract.js';
import { startScramPostgres, type ScramCluster } from './support/scram-postgres.js';

const run = `t${process.pid}_${Date.now().toString(36)}`;
const prefix = `${run}_`;
const READ = `ent_${run}_read`;
const WRITE = `ent_${run}_write`;
const urlVar = `TENURE_TEST_PG_URL_${process.pid}`;
const deadVar = `TENURE_TEST_PG_DEAD_URL_${process.pid}`;
const HOUR = 3_600_000;

let cluster: ScramCluster;
let handles = 0;

const connector = (urlRef = `env:${urlVar}`) => new PostgresRolesConnector({ url: urlRef, rolePrefix: prefix, roles: [READ, WRITE] });

const grantFor = (handle: string, role = READ, overrides: Partial<ConnectorGrant> = {}): ConnectorGrant => {
  const endsAt = new Date(Math.floor(Date.now() / 1000) * 1000 + 8 * HOUR);
  return {
    grantId: `grant-${handle}-${role}`, identityHandle: handle, entitlementKey: `db/${role}`, targetName: role,
    startsAt: new Date(), endsAt, accountEndsAt: endsAt, lastOnSystem: true, ...overrides,
  };
};

const freshHandle = () => { handles += 1; return `carl${handles}`; };

const admin = async <T>(work: (client: pg.Client) => Promise<T>): Promise<T> => {
  const client = new pg.Client({ connectionString: cluster.url });
  await client.connect();
  try { return await work(client); } finally { await client.end(); }
};

/** Gives the login role a password, as the person or their password manager would; Tenure never sets one. */
const setPassword = (handle: string, password: string) =>
  admin((client) => client.query(`ALTER ROLE ${pg.escapeIdentifier(prefix + handle)} PASSWORD ${pg.escapeLiteral(password)}`));

const loginAs = async (handle: string, password: string): Promise<pg.Client> => {
  const client = new pg.Client({ host: cluster.host, port: cluster.port, database: 'postgres', user: prefix + handle, password });
  client.on('error', () => undefined); // a terminated session also rejects its pending query, which the tests assert on
  await client.connect();
  return client;
};

const refusedWith = async (work: () => Promise<unknown>, code: string, field: string) => {
  await assert.rejects(work, (error: unknown) => error instanceof TenureError && error.code === code && error.field === field);
};

describe('the PostgreSQL roles connector against a private cluster with password authentication', () => {
  before(async () => {
    cluster = await startScramPostgres();
    process.env[urlVar] = cluster.url;
    process.env[deadVar] = `postgres://postgres:${encodeURIComponent(cluster.superuserPassword)}@127.0.0.1:1/postgres`;
    await admin(async (client) => {
      await client.query(`CREATE ROLE ${READ} NOLOGIN; CREATE ROLE ${WRITE} NOLOGIN`);
      await client.query(`CREATE TABLE ${run}_ledger (n int); INSERT INTO ${run}_ledger VALUES (42); ALTER TABLE ${run}_ledger OWNER TO ${READ}`);
    });
  });
  after(async () => {
    delete process.env[urlVar];
    delete process.env[deadVar];
    await cluster?.stop();
  });

  connectorContract('PostgreSQL roles', () => connector(), {
    freshGrant: () => grantFor(freshHandle()),
    expectedAccess: (grant) => ({ account: prefix + grant.identityHandle, entitlement: grant.targetName }),
    unreachableConnector: () => connector(`env:${deadVar}`),
    secrets: () => [cluster.superuserPassword, encodeURIComponent(cluster.superuserPassword)],
  });

  describe('what the contractor can really do', () => {
    it('the contractor logs in with a password during the grant and uses the entitlement role\'s privilege', async () => {
      const handle = freshHandle();
      await connector().provision(grantFor(handle));
      await setPassword(handle, 'correct horse');
      const session = await loginAs(handle, 'correct horse');
      try {
        const { rows } = await session.query(`SELECT n FROM ${run}_ledger`);
        assert.deepEqual(rows, [{ n: 42 }]);
      } finally { await session.end(); }
      await assert.rejects(loginAs(handle, 'wrong horse'), /password authentication failed/);
    });

    it('after the last grant is deprovisioned a new login fails: the role, which left nothing behind, is gone with its password', async () => {
      const handle = freshHandle();
      const grant = grantFor(handle);
      await connector().provision(grant);
      await setPassword(handle, 'pw-1');
      await (await loginAs(handle, 'pw-1')).end();
      await connector().deprovision(grant);
      await assert.rejects(loginAs(handle, 'pw-1'), /password authentication failed/);
      assert.equal((await admin((client) => client.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [prefix + handle]))).rowCount, 0);
    });

    it('a session opened before the deprovision is terminated, even one that switched to the entitlement role', async () => {
      const handle = freshHandle();
      const grant = grantFor(handle);
      await connector().provision(grant);
      await setPassword(handle, 'pw-2');
      const plain = await loginAs(handle, 'pw-2');
      const switched = await loginAs(handle, 'pw-2');
      await switched.query(`SET ROLE ${READ}`);
      assert.deepEqual((await plain.query('SELECT 1 AS one')).rows, [{ one: 1 }]);
      assert.deepEqual(await connector().deprovision(grant), { changed: true });
      await assert.rejects(plain.query('SELECT 1'));
      await assert.rejects(switched.query(`SELECT n FROM ${run}_ledger`));
    });

    it('revoking one of two grants keeps the login and the other membership, and ends the open sessions', async () => {
      const handle = freshHandle();
      await connector().provision(grantFor(handle, READ));
      await connector().provision(grantFor(handle, WRITE));
      await setPassword(handle, 'pw-3');
      const open = await loginAs(handle, 'pw-3');
      assert.deepEqual(await connector().deprovision(grantFor(handle, READ, { lastOnSystem: false })), { changed: true });
      await assert.rejects(open.query('SELECT 1'), 'a session may have switched to the revoked role, so it ends');
      const again = await loginAs(handle, 'pw-3');
      try {
        await assert.rejects(again.query(`SELECT n FROM ${run}_ledger`), /permission denied/);
      } finally { await again.end(); }
      const access = (await connector().listAccess()).filter((entry) => entry.account === prefix + handle);
      assert.deepEqual(access.map((entry) => entry.entitlement), [WRITE]);
    });

    it('VALID UNTIL is the end of the identity\'s grants, and follows it when a later grant extends it', async () => {
      const handle = freshHandle();
      const grant = grantFor(handle);
      await connector().provision(grant);
      const validUntil = () => admin(async (client) =>
        (await client.query('SELECT rolvaliduntil FROM pg_roles WHERE rolname = $1', [prefix + handle])).rows[0]?.rolvaliduntil as Date);
      assert.equal((await validUntil()).toISOString(), grant.endsAt?.toISOString());
      const longer = new Date(grant.endsAt!.getTime() + 24 * HOUR);
      assert.deepEqual(await connector().provision(grantFor(handle, WRITE, { endsAt: longer, accountEndsAt: longer })), { changed: true });
      assert.equal((await validUntil()).toISOString(), longer.toISOString());
    });

    it('a grant without an end leaves VALID UNTIL at infinity, and provisioning it again changes nothing', async () => {
      const handle = freshHandle();
      const grant = grantFor(handle, READ, { endsAt: null, accountEndsAt: null });
      await connector().provision(grant);
      const stored = await admin(async (client) =>
        (await client.query('SELECT rolvaliduntil::text AS v FROM pg_roles WHERE rolname = $1', [prefix + handle])).rows[0]?.v);
      assert.equal(stored, 'infinity');
      assert.deepEqual(await connector().provision(grant), { changed: false });
    });

    it('refuses to grant a role it does not manage, and creates nothing', async () => {
      const handle = freshHandle();
      await refusedWith(() => connector().provision(grantFor(handle, 'pg_read_server_files')), 'input.invalid', 'targetName');
      const exists = await admin(async (client) => (await client.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [prefix + handle])).rowCount);
      assert.equal(exists, 0);
    });
  });
});

describe('connector secrets are given by reference', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tenure-secret-ref-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('env:NAME and file:/path resolve to the secret', () => {
    assert.equal(resolveSecretRef('env:DB_URL', 'url', { DB_URL: 'postgres://u:s3cret@h/db' }), 'postgres://u:s3cret@h/db');
    writeFileSync(join(dir, 'url'), 'postgres://u:fromfile@h/db\n');
    assert.equal(resolveSecretRef(`file:${join(dir, 'url')}`, 'url'), 'postgres://u:fromfile@h/db');
  });

  it('an inline secret is refused, naming the setting and never repeating the value', () => {
    assert.throws(() => resolveSecretRef('postgres://u:hunter2@h/db', 'systems.db.connector.url', {}), (error: unknown) =>
      error instanceof TenureError && error.code === 'input.invalid' && error.field === 'systems.db.connector.url'
      && !error.message.includes('hunter2'));
  });

  it('an unset variable, a relative path and a missing file are refused with the reason', () => {
    const reason = (setting: string) => {
      try { resolveSecretRef(setting, 'url', {}); } catch (error) { return (error as TenureError).message; }
      return 'resolved';
    };
    assert.match(reason('env:NOPE_NOT_SET'), /NOPE_NOT_SET is not set/);
    assert.match(reason('file:relative/url'), /absolute path/);
    assert.match(reason(`file:${join(dir, 'missing')}`), /cannot be read \(ENOENT\)/);
  });
});
