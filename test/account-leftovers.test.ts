import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import type { ConnectorGrant } from '../src/connectors/contract.js';
import { PostgresRolesConnector, type PostgresRolesConfig } from '../src/connectors/postgres-roles.js';
import { runProvisioningPass } from '../src/jobs/provisioning/index.js';
import { issueGrantCredential } from '../src/operations/issue-grant-credential.js';
import { listFindings } from '../src/operations/list-findings.js';
import { revokeGrant } from '../src/operations/revoke-grant.js';
import type { Store } from '../src/store/database.js';
import { freshStore } from './support/backends.js';
import { grantThrough } from './support/flows.js';
import { buildProvisioningWorld, startPgTarget, type PgTarget } from './support/provisioning-world.js';

/**
 * Issue 15, observation 4: at an account's last removal, what it created and granted is found,
 * dealt with as the policy says, and the role goes once nothing is left.
 */
let target: PgTarget;
before(async () => { target = await startPgTarget(); });
after(async () => { await target?.stop(); });

const ident = pg.escapeIdentifier;
const dba = (statement: string, params: unknown[] = []) => target.admin((c) => c.query(statement, params));
const roleExists = async (role: string) => (await dba('SELECT 1 FROM pg_roles WHERE rolname = $1', [role])).rowCount === 1;
const ownerOf = async (table: string) => (await dba('SELECT tableowner FROM pg_tables WHERE tablename = $1', [table])).rows[0]?.tableowner as string | undefined;

/** What a contractor leaves behind: a table readable by everyone, and default privileges for everyone on what they create next. */
const leaveThingsBehind = async (account: string, table: string) => {
  await dba(`GRANT CREATE ON SCHEMA public TO ${ident(account)}; ALTER ROLE ${ident(account)} PASSWORD 'leaving-1'`);
  const client = new pg.Client({ host: target.cluster.host, port: target.cluster.port, database: 'postgres', user: account, password: 'leaving-1' });
  await client.connect();
  try {
    await client.query(`CREATE TABLE ${ident(table)} (note text); GRANT SELECT ON ${ident(table)} TO PUBLIC;
      ALTER DEFAULT PRIVILEGES GRANT SELECT ON TABLES TO PUBLIC`);
  } finally { await client.end(); }
};

describe('nothing left behind at the last removal (PostgreSQL 15)', () => {
  const urlVar = () => target.urlVar;
  const connector = (leftovers?: PostgresRolesConfig['leftovers']) =>
    new PostgresRolesConnector({ url: `env:${urlVar()}`, rolePrefix: target.prefix, roles: [target.roles.read], ...(leftovers ? { leftovers } : {}) });
  const grantOf = (handle: string): ConnectorGrant => ({ grantId: `g-${handle}`, identityHandle: handle, entitlementKey: 'payments/read',
    targetName: target.roles.read, startsAt: new Date(), endsAt: null, accountEndsAt: null, lastOnSystem: true });

  it('an account that leaves nothing behind is dropped', async () => {
    await connector().provision(grantOf('neat'));
    const outcome = await connector().deprovision(grantOf('neat'));
    assert.deepEqual(outcome, { changed: true });
    assert.equal(await roleExists(`${target.prefix}neat`), false);
  });

  it('report (the default) lists the table, its grant to PUBLIC and the default privileges, and keeps the role without login', async () => {
    await connector().provision(grantOf('messy'));
    await leaveThingsBehind(`${target.prefix}messy`, 'messy_notes');
    const outcome = await connector().deprovision(grantOf('messy'));
    const said = outcome.leftovers!.join('\n');
    assert.match(said, /owns table messy_notes/);
    assert.match(said, /owns default privileges on new relations belonging to role/);
    assert.match(said, /holds privileges on schema public/);
    assert.equal(await roleExists(`${target.prefix}messy`), true);
    assert.equal(await ownerOf('messy_notes'), `${target.prefix}messy`);
  });

  it('reassign_to hands the objects to a named role and drops the account', async () => {
    await dba(`CREATE ROLE ${ident(`${target.prefix}keeper`)} NOLOGIN`);
    await connector().provision(grantOf('mover'));
    await leaveThingsBehind(`${target.prefix}mover`, 'mover_notes');
    const outcome = await connector({ reassign_to: `${target.prefix}keeper` }).deprovision(grantOf('mover'));
    assert.equal(outcome.leftovers, undefined, 'nothing left');
    assert.equal(await ownerOf('mover_notes'), `${target.prefix}keeper`);
    assert.equal(await roleExists(`${target.prefix}mover`), false);
  });

  it('drop removes what the account owned and the account', async () => {
    await connector().provision(grantOf('dropper'));
    await leaveThingsBehind(`${target.prefix}dropper`, 'dropper_notes');
    const outcome = await connector('drop').deprovision(grantOf('dropper'));
    assert.equal(outcome.leftovers, undefined);
    assert.equal(await ownerOf('dropper_notes'), undefined);
    assert.equal(await roleExists(`${target.prefix}dropper`), false);
  });

  it('through the worker, the leftovers are a finding for the technical owner, and a later grant brings back no password', async () => {
    let store: Store | undefined;
    try {
      store = await freshStore('embedded');
      const w = await buildProvisioningWorld(store, target);
      const grant = await grantThrough(w, 'carl', { entitlement: 'payments/read', justification: 'migration', duration: '7d' }, ['sam', 'olivia']);
      await runProvisioningPass(w.worker);
      const { password } = await issueGrantCredential(await w.as('carl'), { grant });
      const account = `${target.prefix}carl`;
      await dba(`GRANT CREATE ON SCHEMA public TO ${ident(account)}`);
      const client = new pg.Client({ host: target.cluster.host, port: target.cluster.port, database: 'postgres', user: account, password });
      await client.connect();
      await client.query('CREATE TABLE carl_export (row text); GRANT SELECT ON carl_export TO PUBLIC');
      await client.end();
      await revokeGrant(await w.as('sam'), { grant, reason: 'engagement over' });
      await runProvisioningPass(w.worker);
      const [finding] = (await listFindings(await w.as('audrey'), { status: 'open', system: 'payments' })).filter((f) => f.kind === 'account_leftovers');
      assert.equal(finding?.owner, 'tom');
      assert.match(JSON.stringify(finding!.evidence), /owns table carl_export/);
      assert.deepEqual((await dba('SELECT rolcanlogin, rolpassword FROM pg_authid WHERE rolname = $1', [account])).rows[0],
        { rolcanlogin: false, rolpassword: null }, 'kept for its leftovers, without login or password');
      await dba(`ALTER ROLE ${ident(account)} LOGIN VALID UNTIL 'infinity'`);
      const revived = new pg.Client({ host: target.cluster.host, port: target.cluster.port, database: 'postgres', user: account, password });
      await assert.rejects(revived.connect(), /password authentication failed/, 'turning LOGIN back on by hand does not revive the password');
    } finally {
      await store?.close();
    }
  });
});
