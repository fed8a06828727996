import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { ConnectorGrant } from '../src/connectors/contract.js';
import { ScimConnector } from '../src/connectors/scim.js';
import { TenureError } from '../src/domain/errors.js';
import { connectorContract } from './support/connector-contract.js';
import { startScimServer, type ScimServer } from './support/scim-server.js';

const prefix = `t${process.pid}-`;
const READ = 'app-read';
const WRITE = 'app-write';
const GROUPS: Record<string, string> = { [READ]: 'App Readers', [WRITE]: 'App Writers' };
const tokenVar = `TENURE_TEST_SCIM_TOKEN_${process.pid}`;
const wrongVar = `TENURE_TEST_SCIM_WRONG_TOKEN_${process.pid}`;
const HOUR = 3_600_000;

let server: ScimServer;
let handles = 0;

const connector = (overrides: { baseUrl?: string; token?: string } = {}) => new ScimConnector({
  baseUrl: overrides.baseUrl ?? server.baseUrl, token: overrides.token ?? `env:${tokenVar}`, groups: GROUPS, userNamePrefix: prefix,
});

const grantFor = (handle: string, target = READ, overrides: Partial<ConnectorGrant> = {}): ConnectorGrant => {
  const endsAt = new Date(Date.now() + 8 * HOUR);
  return {
    grantId: `grant-${handle}-${target}`, identityHandle: handle, entitlementKey: `app/${target}`, targetName: target,
    startsAt: new Date(), endsAt, accountEndsAt: endsAt, lastOnSystem: true, ...overrides,
  };
};

const freshHandle = () => { handles += 1; return `vera${handles}`; };

/** Reads the SCIM service directly, as an administrator would, not through the connector under test. */
const scimGet = async <T>(path: string): Promise<T> => {
  const response = await fetch(`${server.baseUrl}${path}`, { headers: { Authorization: `Bearer ${server.token}` } });
  assert.equal(response.status, 200, `GET ${path}`);
  return await response.json() as T;
};

interface User { id: string; userName: string; active: boolean }
const userNamed = async (handle: string): Promise<User | undefined> =>
  (await scimGet<{ Resources: User[] }>(`/Users?filter=${encodeURIComponent(`userName eq "${prefix}${handle}"`)}`)).Resources[0];
const memberIds = async (displayName: string): Promise<string[]> =>
  ((await scimGet<{ members?: { value: string }[] }>(`/Groups/${server.groupId(displayName)}`)).members ?? []).map((m) => m.value);

describe('the SCIM connector against a real SCIM 2.0 service (scimmy)', () => {
  before(async () => {
    server = await startScimServer(Object.values(GROUPS).concat('Domain Admins'));
    process.env[tokenVar] = server.token;
    process.env[wrongVar] = 'not-the-token-0123456789';
  });
  after(async () => {
    delete process.env[tokenVar];
    delete process.env[wrongVar];
    await server?.stop();
  });

  connectorContract('SCIM 2.0', () => connector(), {
    freshGrant: () => grantFor(freshHandle()),
    expectedAccess: (grant) => ({ account: prefix + grant.identityHandle, entitlement: grant.targetName }),
    unreachableConnector: () => connector({ baseUrl: 'http://127.0.0.1:1/scim/v2' }),
    secrets: () => [server.token],
  });

  describe('users, memberships and deactivation on leave', () => {
    it('provisioning creates an active user and a membership visible through the server\'s own API', async () => {
      const handle = freshHandle();
      assert.deepEqual(await connector().provision(grantFor(handle)), { changed: true });
      const user = await userNamed(handle);
      assert.equal(user?.active, true);
      assert.ok((await memberIds(GROUPS[READ]!)).includes(user.id));
      assert.ok(!(await memberIds(GROUPS[WRITE]!)).includes(user.id), 'no other group');
    });

    it('removing the last grant deactivates the user while keeping other users untouched', async () => {
      const leaving = freshHandle();
      const staying = freshHandle();
      await connector().provision(grantFor(leaving));
      await connector().provision(grantFor(staying));
      assert.deepEqual(await connector().deprovision(grantFor(leaving)), { changed: true });
      const gone = await userNamed(leaving);
      const kept = await userNamed(staying);
      assert.equal(gone?.active, false);
      assert.equal(kept?.active, true);
      const members = await memberIds(GROUPS[READ]!);
      assert.ok(!members.includes(gone.id) && members.includes(kept.id));
      const access = await connector().listAccess();
      assert.deepEqual(access.filter((entry) => entry.account === prefix + staying),
        [{ account: prefix + staying, identityHandle: staying, entitlement: READ, attributes: { active: true } }]);
    });

    it('removing one of two grants keeps the user active while the other grant remains', async () => {
      const handle = freshHandle();
      await connector().provision(grantFor(handle, READ));
      await connector().provision(grantFor(handle, WRITE));
      assert.deepEqual(await connector().deprovision(grantFor(handle, READ, { lastOnSystem: false })), { changed: true });
      const user = await userNamed(handle);
      assert.equal(user?.active, true);
      assert.ok(!(await memberIds(GROUPS[READ]!)).includes(user.id));
      assert.ok((await memberIds(GROUPS[WRITE]!)).includes(user.id));
    });

    it('a new grant after leaving re-activates the same user', async () => {
      const handle = freshHandle();
      await connector().provision(grantFor(handle));
      await connector().deprovision(grantFor(handle));
      const before = await userNamed(handle);
      assert.deepEqual(await connector().provision(grantFor(handle, WRITE)), { changed: true });
      const after = await userNamed(handle);
      assert.equal(after?.id, before?.id);
      assert.equal(after?.active, true);
    });
  });

  describe('reading access back', () => {
    it('listAccess reads every page of users, beyond the service\'s page size', async () => {
      const many = Array.from({ length: 120 }, () => freshHandle());
      for (const handle of many) await connector().provision(grantFor(handle));
      const accounts = new Set((await connector().listAccess()).map((entry) => entry.account));
      assert.ok(many.every((handle) => accounts.has(prefix + handle)));
    });

    it('a hand-added user in a managed group is reported as an unmanaged member and removed by revokeMembership', async () => {
      const mallory = `mallory-${process.pid}`;
      const malloryId = await server.addUser(mallory);
      await server.addMember(GROUPS[WRITE]!, malloryId);
      const outsider = new ScimConnector({ baseUrl: server.baseUrl, token: `env:${tokenVar}`, groups: GROUPS, userNamePrefix: 'other-' });
      await outsider.provision(grantFor('olga', WRITE));
      const access = (await connector().listAccess()).filter((entry) => entry.entitlement === WRITE);
      assert.deepEqual(access.find((entry) => entry.account === mallory), { account: mallory, identityHandle: null, entitlement: WRITE, attributes: { active: true } });
      assert.equal(access.find((entry) => entry.account === 'other-olga')?.identityHandle, null, 'another prefix is someone else\'s');

      assert.deepEqual(await connector().revokeMembership(mallory, WRITE), { changed: true });
      assert.deepEqual(await connector().revokeMembership(mallory, WRITE), { changed: false }, 'idempotent');
      assert.ok(!(await memberIds(GROUPS[WRITE]!)).includes(malloryId));
      assert.ok(await scimGet(`/Users/${malloryId}`), 'the user itself is not Tenure\'s to touch');
      await assert.rejects(connector().revokeMembership(mallory, 'Domain Admins'), (error: unknown) =>
        error instanceof TenureError && error.field === 'entitlement');
    });

    it('a member reached through a nested group is reported as nested access, and revokeMembership removes the nested group, not its members', async () => {
      const handle = freshHandle();
      await connector().provision(grantFor(handle, WRITE));
      const [team, inner, alice, ivy] = [`Team ${process.pid}`, `Inner ${process.pid}`, `alice-${process.pid}`, `ivy-${process.pid}`];
      const teamId = await server.addGroup(team);
      const innerId = await server.addGroup(inner);
      await server.addMember(team, await server.addUser(alice));
      await server.addMember(team, (await userNamed(handle))!.id);
      await server.addMember(team, innerId);
      await server.addMember(inner, await server.addUser(ivy));
      await server.addMember(inner, teamId);
      await server.addMember(GROUPS[READ]!, teamId);

      const access = (await connector().listAccess()).filter((entry) => entry.entitlement === READ);
      const of = (account: string) => access.find((entry) => entry.account === account);
      assert.deepEqual(of(`group:${team}`), { account: `group:${team}`, identityHandle: null, entitlement: READ, attributes: { id: teamId } });
      assert.deepEqual(of(alice), { account: alice, identityHandle: null, entitlement: READ, via: `group:${team}`, attributes: { active: true } });
      assert.equal(of(prefix + handle)?.identityHandle, handle, 'Tenure\'s own user, reached through nesting');
      assert.equal(of(prefix + handle)?.via, `group:${team}`);
      assert.equal(of(ivy)?.via, `group:${team}`, 'two levels down, through groups that contain each other');
      assert.equal(of(`group:${inner}`)?.via, `group:${team}`);

      assert.deepEqual(await connector().revokeMembership(`group:${team}`, READ), { changed: true });
      assert.ok(!(await memberIds(GROUPS[READ]!)).includes(teamId));
      assert.equal((await memberIds(team)).length, 3, 'the nested group itself is not Tenure\'s to touch');
      const after = (await connector().listAccess()).filter((entry) => entry.entitlement === READ);
      assert.ok(!after.some((entry) => [`group:${team}`, alice, ivy, prefix + handle].includes(entry.account)));
    });

    it('a managed group inside another is the administrator\'s hierarchy: neither reported nor followed', async () => {
      const handle = freshHandle();
      await connector().provision(grantFor(handle, WRITE));
      const writers = server.groupId(GROUPS[WRITE]!);
      await server.addMember(GROUPS[READ]!, writers);
      try {
        const read = (await connector().listAccess()).filter((entry) => entry.entitlement === READ);
        assert.ok(!read.some((entry) => entry.account === prefix + handle || entry.account === `group:${GROUPS[WRITE]}`));
      } finally {
        await server.admin('PATCH', `/Groups/${server.groupId(GROUPS[READ]!)}`, { schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'],
          Operations: [{ op: 'remove', path: `members[value eq "${writers}"]` }] });
      }
    });

    it('a member id that resolves to nothing is still reported, and revokeMembership removes it', async () => {
      const ghostId = await server.addUser(`ghost-${process.pid}`);
      await server.addMember(GROUPS[READ]!, ghostId);
      await server.admin('DELETE', `/Users/${ghostId}`);
      const access = await connector().listAccess();
      assert.deepEqual(access.find((entry) => entry.account === `id:${ghostId}`), { account: `id:${ghostId}`, identityHandle: null, entitlement: READ });
      assert.deepEqual(await connector().revokeMembership(`id:${ghostId}`, READ), { changed: true });
      assert.ok(!(await memberIds(GROUPS[READ]!)).includes(ghostId));
    });
  });

  describe('sign-in state', () => {
    it('listAccounts shows a re-activated user with no membership as able to sign in, and restrictLogin deactivates it', async () => {
      const handle = freshHandle();
      await connector().provision(grantFor(handle));
      await connector().deprovision(grantFor(handle));
      const user = (await userNamed(handle))!;
      await server.admin('PATCH', `/Users/${user.id}`, { schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'],
        Operations: [{ op: 'replace', path: 'active', value: true }] });
      const accounts = await connector().listAccounts();
      assert.deepEqual(accounts.find((account) => account.identityHandle === handle), { account: prefix + handle, identityHandle: handle, canLogin: true });
      assert.ok(accounts.every((account) => account.account.startsWith(prefix)), 'only users named by the rule');

      assert.deepEqual(await connector().restrictLogin(prefix + handle, null), { changed: true });
      assert.deepEqual(await connector().restrictLogin(prefix + handle, null), { changed: false }, 'idempotent');
      assert.equal((await userNamed(handle))?.active, false);
      await assert.rejects(connector().restrictLogin('other-olga', null), (error: unknown) => error instanceof TenureError && error.field === 'account');
      await assert.rejects(connector().restrictLogin(prefix + handle, new Date()), (error: unknown) => error instanceof TenureError && error.field === 'until');
    });
  });

  describe('credentials and refusals', () => {
    it('a wrong token makes check() not ok and provision throw, with the token absent from the message', async () => {
      const wrong = connector({ token: `env:${wrongVar}` });
      const result = await wrong.check();
      assert.equal(result.ok, false);
      assert.match(result.detail, /refused the connector's token \(401\): a valid bearer token is required/);
      await assert.rejects(wrong.provision(grantFor(freshHandle())), (error: unknown) =>
        error instanceof Error && /401/.test(error.message) && !error.message.includes(process.env[wrongVar]!)
        && !error.message.includes(server.token));
      assert.ok(!result.detail.includes(process.env[wrongVar]!));
    });

    it('a group the connector does not manage is refused before any request', async () => {
      const before = server.requests();
      const grant = grantFor(freshHandle(), 'Domain Admins');
      for (const operation of [() => connector().provision(grant), () => connector().deprovision(grant)]) {
        await assert.rejects(operation, (error: unknown) =>
          error instanceof TenureError && error.code === 'input.invalid' && error.field === 'targetName');
      }
      assert.equal(server.requests(), before);
    });

    it('a missing group or a wrong endpoint fails with the status and the service\'s own detail', async () => {
      const missing = new ScimConnector({ baseUrl: server.baseUrl, token: `env:${tokenVar}`, groups: ['No Such Group'] });
      await assert.rejects(missing.provision(grantFor(freshHandle(), 'No Such Group')), /has no group No Such Group/);
      const check = await missing.check();
      assert.equal(check.ok, false);
      assert.match(check.detail, /has no group No Such Group/);
      const bad = connector({ baseUrl: `${server.baseUrl}/Nowhere` });
      await assert.rejects(bad.provision(grantFor(freshHandle())), /failed \(404\): Endpoint Not Found/);
    });

    it('a token given inline instead of by reference is refused without being repeated', async () => {
      const inline = connector({ token: server.token });
      await assert.rejects(inline.provision(grantFor(freshHandle())), (error: unknown) =>
        error instanceof TenureError && error.field === 'token' && !error.message.includes(server.token));
      const result = await inline.check();
      assert.equal(result.ok, false);
      assert.ok(!result.detail.includes(server.token));
    });
  });
});
