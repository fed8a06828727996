import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { PostgresRolesConnector } from '../src/connectors/postgres-roles.js';
import { DEFAULT_FINDING_DUE_MS } from '../src/domain/findings.js';
import { checkConnectors } from '../src/jobs/connector-check.js';
import { runProvisioningPass } from '../src/jobs/provisioning/index.js';
import { listFindings } from '../src/operations/list-findings.js';
import { listSystems } from '../src/operations/list-systems.js';
import { reconcileSystems } from '../src/operations/reconcile-system.js';
import { revokeGrant } from '../src/operations/revoke-grant.js';
import type { Store } from '../src/store/database.js';
import { BACKENDS, freshStore } from './support/backends.js';
import { grantThrough } from './support/flows.js';
import { buildProvisioningWorld, startPgTarget, type PgTarget } from './support/provisioning-world.js';
import { startScimServer, type ScimServer } from './support/scim-server.js';
import type { World } from './support/world.js';

/**
 * Issue 15, observations 1, 2 and 6, against a real scram PostgreSQL 15 target and a real SCIM
 * service: access that Tenure did not make (a hand GRANT or group member, nesting, a login turned back
 * on) is seen, owned, and removed where that is safe; and a connector role that can reach the
 * operating system is reported.
 */
let target: PgTarget;
before(async () => { target = await startPgTarget(); });
after(async () => { await target?.stop(); });

const ident = pg.escapeIdentifier;
const dba = (statement: string) => target.admin((client) => client.query(statement));
const login = (handle: string) => `${target.prefix}${handle}`;
const roleState = async (role: string) => (await target.admin((c) => c.query<{ rolcanlogin: boolean; rolvaliduntil: Date | null }>(
  'SELECT rolcanlogin, rolvaliduntil FROM pg_roles WHERE rolname = $1', [role]))).rows[0];
const isMember = async (member: string, role: string) => (await target.admin((c) => c.query(
  'SELECT 1 FROM pg_auth_members m JOIN pg_roles g ON g.oid = m.roleid JOIN pg_roles u ON u.oid = m.member WHERE g.rolname = $1 AND u.rolname = $2',
  [role, member]))).rowCount === 1;

const reconcile = async (w: World, revoke = false) => {
  w.clock.advance(60_000);
  return (await reconcileSystems(await w.as(revoke ? 'selma' : 'ivan'), { system: 'payments', revoke, confirmMassRevoke: revoke }))[0]!;
};
const openOf = async (w: World, kind: string) => (await listFindings(await w.as('audrey'), { status: 'open', system: 'payments' }))
  .filter((f) => f.kind === kind);

/** Carl holds payments/read for a while, then the grant ends: what Tenure made for him in the target is removed. */
const grantAndEndCarls = async (w: World) => {
  const grant = await grantThrough(w, 'carl', { entitlement: 'payments/read', justification: 'audit support', duration: '7d' }, ['sam', 'olivia']);
  await runProvisioningPass(w.worker);
  await revokeGrant(await w.as('sam'), { grant, reason: 'engagement over' });
  await runProvisioningPass(w.worker);
};

for (const backend of BACKENDS) {
  describe(`reconciliation sees access Tenure did not make (${backend})`, () => {
    let store: Store;
    let w: World;
    const run = `${process.pid}_${backend}`;
    const bob = `bob_${run}`;
    const team = `team_${run}`;
    const alice = `alice_${run}`;
    before(async () => { store = await freshStore(backend); w = await buildProvisioningWorld(store, target); });
    after(async () => {
      await store?.close();
      await dba(`DO $$ DECLARE r record; BEGIN FOR r IN SELECT rolname FROM pg_roles WHERE left(rolname, ${target.prefix.length}) = '${target.prefix}'
        OR rolname IN ('${bob}', '${team}', '${alice}') LOOP EXECUTE format('DROP ROLE %I', r.rolname); END LOOP; END $$`);
    });

    it('a managed role granted by hand to a role outside the naming rule is unmanaged_member, owned by the technical owner, and the system is not healthy', async () => {
      await dba(`CREATE ROLE ${ident(bob)} LOGIN; GRANT ${target.roles.read} TO ${ident(bob)}`);
      const result = await reconcile(w);
      assert.equal(result.drift.unmanaged_member, 1);
      const [finding] = await openOf(w, 'unmanaged_member');
      assert.equal((finding!.evidence as { account: string }).account, bob);
      assert.equal(finding!.owner, 'tom');
      assert.equal(new Date(finding!.dueAt!).getTime() - new Date(finding!.openedAt).getTime(), DEFAULT_FINDING_DUE_MS.high);
      const payments = (await listSystems(await w.as('ivan'))).items.find((s) => s.key === 'payments')!;
      assert.notEqual(payments.operations!.health, 'ok');
      assert.ok(payments.operations!.openDriftFindings >= 1);
    });

    it('access through a nested role is seen for every member, and revoke removes the nested role\'s membership, not the members\'', async () => {
      await dba(`CREATE ROLE ${ident(team)} NOLOGIN; GRANT ${target.roles.approve} TO ${ident(team)};
                 CREATE ROLE ${ident(alice)} LOGIN; GRANT ${ident(team)} TO ${ident(alice)}`);
      const seen = await reconcile(w);
      assert.equal(seen.drift.nested_access, 1);
      const [nested] = await openOf(w, 'nested_access');
      assert.deepEqual([(nested!.evidence as { account: string }).account, (nested!.evidence as { via: string }).via], [alice, team]);
      assert.match((nested!.evidence as { notRemoved: string }).notRemoved, new RegExp(`comes through ${team}`));

      const revoked = await reconcile(w, true);
      assert.equal(revoked.revoked, 2, 'bob\'s and the team role\'s hand-made memberships');
      assert.equal(await isMember(bob, target.roles.read), false);
      assert.equal(await isMember(team, target.roles.approve), false);
      assert.equal(await isMember(alice, team), true, 'what lies outside the managed roles is not Tenure\'s to touch');
      const after = await reconcile(w);
      assert.equal(after.drift.unmanaged_member, undefined);
      assert.equal(after.drift.nested_access, undefined);
    });

    it('an ended account re-created by hand with a login is login_without_grant (critical), and revoke locks it again', async () => {
      await grantAndEndCarls(w);
      assert.equal(await roleState(login('carl')), undefined, 'Tenure dropped it at the last removal: it left nothing behind');
      await dba(`CREATE ROLE ${ident(login('carl'))} LOGIN VALID UNTIL 'infinity'`);
      const seen = await reconcile(w);
      assert.equal(seen.drift.login_without_grant, 1);
      const [finding] = await openOf(w, 'login_without_grant');
      assert.equal(finding!.severity, 'critical');
      assert.equal(finding!.owner, 'tom');
      await reconcile(w, true);
      assert.equal((await roleState(login('carl')))!.rolcanlogin, false);
      assert.equal((await reconcile(w)).drift.login_without_grant, undefined);
    });

    it('a live account whose VALID UNTIL is pushed past its grants is login_outlives_grants, and revoke brings it back to the grant\'s end', async () => {
      await grantThrough(w, 'eve', { entitlement: 'payments/read', justification: 'reports', duration: '7d' }, ['sam', 'olivia']);
      await runProvisioningPass(w.worker);
      const granted = (await roleState(login('eve')))!.rolvaliduntil!;
      await dba(`ALTER ROLE ${ident(login('eve'))} VALID UNTIL 'infinity'`);
      assert.equal((await reconcile(w)).drift.login_outlives_grants, 1);
      await reconcile(w, true);
      assert.equal((await roleState(login('eve')))!.rolvaliduntil!.getTime(), granted.getTime());
      assert.equal((await reconcile(w)).drift.login_outlives_grants, undefined);
    });
  });
}

const PATCH_OP = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';

for (const backend of BACKENDS) {
  describe(`reconciliation sees everything a managed SCIM group gives (${backend})`, () => {
    let store: Store;
    let w: World;
    let scim: ScimServer;
    const prefix = `s${process.pid}-`;
    const tokenVar = `TENURE_TEST_RECONCILE_SCIM_TOKEN_${process.pid}`;
    before(async () => {
      // The payments entitlements' targets (the PostgreSQL target's role names) are the SCIM groups' displayNames.
      scim = await startScimServer(Object.values(target.roles));
      process.env[tokenVar] = scim.token;
      store = await freshStore(backend);
      w = await buildProvisioningWorld(store, target,
        { connector: { type: 'scim', base_url: scim.baseUrl, token: `env:${tokenVar}`, user_name_prefix: prefix } });
    });
    after(async () => {
      await store?.close();
      await scim?.stop();
      delete process.env[tokenVar];
    });
    const members = async (group: string) =>
      ((await scim.admin<{ members?: { value: string }[] }>('GET', `/Groups/${scim.groupId(group)}`)).members ?? []).map((m) => m.value);
    const userNamed = async (userName: string) => (await scim.admin<{ Resources: { id: string; active: boolean }[] }>(
      'GET', `/Users?filter=${encodeURIComponent(`userName eq "${userName}"`)}`)).Resources[0];
    const evidenceOf = (finding: { evidence: unknown } | undefined) => finding?.evidence as { account: string; via?: string };

    it('a hand-added user in a managed group is reported as an unmanaged member and removed by --revoke', async () => {
      const bobId = await scim.addUser('bob');
      await scim.addMember(target.roles.read, bobId);
      assert.equal((await reconcile(w)).drift.unmanaged_member, 1);
      const [finding] = await openOf(w, 'unmanaged_member');
      assert.equal(evidenceOf(finding).account, 'bob');
      assert.equal(finding!.owner, 'tom');
      assert.equal((await reconcile(w, true)).revoked, 1);
      assert.ok(!(await members(target.roles.read)).includes(bobId));
      assert.ok(await userNamed('bob'), 'the user itself is not Tenure\'s to touch');
      assert.equal((await reconcile(w)).drift.unmanaged_member, undefined);
    });

    it('a member reached through a nested group is reported as nested access, and --revoke removes the nested group\'s membership, not its members\'', async () => {
      const helpers = await scim.addGroup('helpers');
      const alice = await scim.addUser('alice');
      await scim.addMember('helpers', alice);
      await scim.addMember(target.roles.approve, helpers);
      const seen = await reconcile(w);
      assert.equal(seen.drift.nested_access, 1);
      assert.equal(seen.drift.unmanaged_member, 1, 'the nested group\'s own membership');
      const [nested] = await openOf(w, 'nested_access');
      assert.deepEqual([evidenceOf(nested).account, evidenceOf(nested).via], ['alice', 'group:helpers']);
      assert.equal(evidenceOf((await openOf(w, 'unmanaged_member'))[0]).account, 'group:helpers');

      assert.equal((await reconcile(w, true)).revoked, 1);
      assert.ok(!(await members(target.roles.approve)).includes(helpers));
      assert.deepEqual(await members('helpers'), [alice], 'what lies outside the managed groups is not Tenure\'s to touch');
      const after = await reconcile(w);
      assert.equal(after.drift.nested_access, undefined);
      assert.equal(after.drift.unmanaged_member, undefined);
    });

    it('a re-activated user of an ended identity is a login without a grant and is deactivated by --revoke', async () => {
      await grantAndEndCarls(w);
      const carl = (await userNamed(`${prefix}carl`))!;
      assert.equal(carl.active, false, 'Tenure deactivated it at the last removal');
      await scim.admin('PATCH', `/Users/${carl.id}`, { schemas: [PATCH_OP], Operations: [{ op: 'replace', path: 'active', value: true }] });
      assert.equal((await reconcile(w)).drift.login_without_grant, 1);
      const [finding] = await openOf(w, 'login_without_grant');
      assert.equal(finding!.severity, 'critical');
      await reconcile(w, true);
      assert.equal((await userNamed(`${prefix}carl`))!.active, false);
      assert.equal((await reconcile(w)).drift.login_without_grant, undefined);
    });
  });
}

describe('the connector checks its own powers on a real PostgreSQL 15', () => {
  const conn = `tenure_conn_${process.pid}`;
  const password = `pw-${process.pid}-${Date.now()}`;
  const urlVar = `TENURE_TEST_CONN_URL_${process.pid}`;
  const connector = () => new PostgresRolesConnector({ url: `env:${urlVar}`, rolePrefix: target.prefix, roles: [target.roles.read] });
  before(async () => {
    await dba(`CREATE ROLE ${ident(conn)} LOGIN CREATEROLE PASSWORD '${password}'`);
    const url = new URL(target.cluster.url);
    url.username = conn;
    url.password = password;
    process.env[urlVar] = url.toString();
  });
  after(async () => {
    delete process.env[urlVar];
    await dba(`DROP ROLE IF EXISTS ${ident(conn)}`);
  });

  it('the documented CREATEROLE role can grant itself pg_execute_server_program on 15, and check() reports it as unsafe', async () => {
    const before = await connector().check();
    assert.equal(before.ok, true, before.detail);
    assert.ok(before.unsafe!.some((r) => /CREATEROLE on PostgreSQL 15.*pg_execute_server_program/.test(r)), before.unsafe!.join('; '));
    // The adversary with the connector's URL: one statement away from commands on the database host.
    const client = new pg.Client({ connectionString: process.env[urlVar] });
    await client.connect();
    try { await client.query(`GRANT pg_execute_server_program TO ${ident(conn)}`); } finally { await client.end(); }
    const afterGrant = await connector().check();
    assert.ok(afterGrant.unsafe!.includes(`${conn} is a member of pg_execute_server_program`), afterGrant.unsafe!.join('; '));
    assert.doesNotMatch(afterGrant.detail, new RegExp(password), 'the detail never carries the credential');
  });

  it('a superuser connector is reported, and at start every connector\'s check opens a connector_unsafe finding for the technical owner', async () => {
    const store = await freshStore('embedded');
    try {
      const w = await buildProvisioningWorld(store, target);
      const [checked] = await checkConnectors(w.worker);
      assert.match(checked!.unsafe.join(';'), /postgres is a superuser/);
      const [finding] = await openOf(w, 'connector_unsafe');
      assert.equal(finding!.severity, 'critical');
      assert.equal(finding!.owner, 'tom');
      assert.equal((await listSystems(await w.as('ivan'))).items.find((s) => s.key === 'payments')!.operations!.health, 'unsafe');
      await checkConnectors(w.worker);
      assert.equal((await openOf(w, 'connector_unsafe')).length, 1, 'checked again, the same finding is refreshed');
    } finally {
      await store.close();
    }
  });
});
