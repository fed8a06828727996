import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import type { ConnectorGrant } from '../src/connectors/contract.js';
import { PostgresRolesConnector } from '../src/connectors/postgres-roles.js';
import { createScratchDatabase } from './support/postgres-server.js';

/**
 * The postgres-roles connector on a shared account, against the real server, signed in as a role
 * that is not superuser (CREATEROLE only, as docs/connectors.md asks): the check-out gives the
 * person's login role nothing, and the removal rotates the shared role's password, which it can
 * prove only when it may read pg_authid.rolpassword.
 */
describe('the postgres-roles connector on a shared account', () => {
  const run = `sa${process.pid.toString(36)}${Date.now().toString(36).slice(-4)}`;
  const shared = `${run}_app_admin`;
  const connectorRole = `${run}_connector`;
  const urlVar = `TENURE_TEST_SHARED_CONNECTOR_${process.pid}`;
  let scratch: { url: string; drop: () => Promise<void> };
  let connector: PostgresRolesConnector;
  const admin = async <T>(work: (c: pg.Client) => Promise<T>): Promise<T> => {
    const client = new pg.Client({ connectionString: scratch.url });
    await client.connect();
    try { return await work(client); } finally { await client.end(); }
  };
  const verifier = () => admin(async (c) => (await c.query<{ v: string | null }>('SELECT rolpassword AS v FROM pg_authid WHERE rolname = $1', [shared])).rows[0]?.v);
  const grant: ConnectorGrant = {
    grantId: '00000000-0000-4000-8000-000000000001', identityHandle: 'carl', entitlementKey: 'payments/app-admin', targetName: shared,
    startsAt: new Date(), endsAt: new Date(Date.now() + 3_600_000), accountEndsAt: null, lastOnSystem: false, sharedAccount: true,
  };

  before(async () => {
    scratch = await createScratchDatabase();
    await admin((c) => c.query(`CREATE ROLE ${connectorRole} LOGIN CREATEROLE; CREATE ROLE ${shared} NOLOGIN PASSWORD 'someone-knew-this'`));
    const url = new URL(scratch.url);
    url.username = connectorRole;
    process.env[urlVar] = url.toString();
    connector = new PostgresRolesConnector({ url: `env:${urlVar}`, rolePrefix: `${run}_p_`, roles: [shared], sharedRoles: [shared] });
  });
  after(async () => {
    await connector?.close();
    await admin((c) => c.query(`REVOKE SELECT (rolname, rolpassword) ON pg_authid FROM ${connectorRole}`)).catch(() => undefined);
    await scratch?.drop();
    const base = new URL(scratch.url); base.pathname = '/postgres';
    const client = new pg.Client({ connectionString: base.toString() });
    await client.connect();
    for (const role of [shared, connectorRole]) await client.query(`DROP ROLE IF EXISTS ${role}`);
    await client.end();
    delete process.env[urlVar];
  });

  it('checks the account out by letting the shared role sign in, and creates or grants nothing for the person', async () => {
    assert.deepEqual(await connector.provision(grant), { changed: true });
    assert.deepEqual(await connector.provision(grant), { changed: false }, 'again: nothing to do');
    const state = await admin(async (c) => ({
      canLogin: (await c.query<{ l: boolean }>('SELECT rolcanlogin AS l FROM pg_roles WHERE rolname = $1', [shared])).rows[0]?.l,
      personal: (await c.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [`${run}_p_carl`])).rowCount,
      members: (await c.query('SELECT 1 FROM pg_auth_members m JOIN pg_roles r ON r.oid = m.roleid WHERE r.rolname = $1', [shared])).rowCount,
    }));
    assert.deepEqual(state, { canLogin: true, personal: 0, members: 0 });
    assert.equal(await connector.holds(grant), false, 'the person holds nothing in the target');
  });

  it('lists sessions on the shared role with the managed ones, so one that did not come through the proxy is seen', async () => {
    await admin((c) => c.query(`GRANT pg_read_all_stats TO ${connectorRole}`)); // as docs/sessions.md asks, to see client addresses
    const direct = new pg.Client({ connectionString: scratch.url.replace(/\/\/[^@/]*@/, `//${shared}@`) });
    await direct.connect();
    try {
      assert.ok((await connector.listSessions()).some((s) => s.account === shared));
    } finally { await direct.end(); }
  });

  it('says in its check that it cannot read the rotation back, until it may read pg_authid.rolpassword', async () => {
    const check = await connector.check();
    assert.equal(check.ok, false);
    assert.match(check.detail, /cannot read pg_authid.rolpassword/);
  });

  it('refuses to claim a rotation it cannot read back, and changes nothing', async () => {
    const before = await verifier();
    await assert.rejects(connector.deprovision(grant), /cannot read pg_authid.rolpassword.*GRANT SELECT \(rolname, rolpassword\) ON pg_authid/);
    assert.equal(await verifier(), before);
  });

  it('rotates the password to one nobody knows once it may read pg_authid, and reports digests of the verifiers before and after', async () => {
    await admin((c) => c.query(`GRANT SELECT (rolname, rolpassword) ON pg_authid TO ${connectorRole}`));
    const before = await verifier();
    const outcome = await connector.deprovision(grant);
    const after = await verifier();
    const sha = (v: string) => createHash('sha256').update(v).digest('hex');
    assert.ok(after?.startsWith('SCRAM-SHA-256$') && after !== before);
    assert.equal((await connector.check()).ok, true, 'and its check passes');
    assert.deepEqual(outcome, { changed: true, rotation: { beforeSha256: sha(before!), afterSha256: sha(after!) } });
    const again = await connector.deprovision(grant);
    assert.notEqual(again.rotation?.afterSha256, outcome.rotation?.afterSha256, 'a second removal rotates again, harmlessly');
    assert.equal(await connector.holds(grant), false);
  });

  it('refuses a check-out of a shared role that does not exist in the target', async () => {
    await admin((c) => c.query(`DROP ROLE ${shared}`));
    await assert.rejects(connector.provision(grant), /shared account .* does not exist in the target/);
    assert.match((await connector.check()).detail, new RegExp(`shared account role\\(s\\) ${shared} do not exist`));
  });
});
