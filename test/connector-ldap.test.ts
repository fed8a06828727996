import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Attribute, Change, Client, EqualityFilter } from 'ldapts';
import type { ConnectorGrant } from '../src/connectors/contract.js';
import { LdapConnector, type LdapConfig } from '../src/connectors/ldap.js';
import { TenureError } from '../src/domain/errors.js';
import { connectorContract } from './support/connector-contract.js';
import { startSlapd, type Slapd } from './support/slapd.js';

const prefix = `t${process.pid}-`;
const READ = 'app-read';
const WRITE = 'app-write';
const GROUPS: Record<string, string> = { [READ]: 'App Readers', [WRITE]: 'App Writers' };
const passwordVar = `TENURE_TEST_LDAP_PASSWORD_${process.pid}`;
const wrongVar = `TENURE_TEST_LDAP_WRONG_PASSWORD_${process.pid}`;
const HOUR = 3_600_000;

let server: Slapd;
let secretsDir: string;
let admin: Client;
let handles = 0;

const connector = (overrides: Partial<LdapConfig> = {}) => new LdapConnector({
  url: server.url, bindDn: server.bindDn, bindPassword: `env:${passwordVar}`, usersDn: server.usersDn,
  groupsDn: server.groupsDn, groups: GROUPS, uidPrefix: prefix, timeoutMs: 5_000, ...overrides,
});

const grantFor = (handle: string, target = READ, overrides: Partial<ConnectorGrant> = {}): ConnectorGrant => {
  const endsAt = new Date(Date.now() + 8 * HOUR);
  return {
    grantId: `grant-${handle}-${target}`, identityHandle: handle, entitlementKey: `dir/${target}`, targetName: target,
    startsAt: new Date(), endsAt, accountEndsAt: endsAt, lastOnSystem: true, ...overrides,
  };
};

const freshHandle = () => { handles += 1; return `vera${handles}`; };
const groupDn = (cn: string) => `cn=${cn},${server.groupsDn}`;
const userDn = (handle: string) => `uid=${prefix}${handle},${server.usersDn}`;

/**
 * Reads the directory with OpenLDAP's own ldapsearch, as an administrator would, not through the
 * connector or ldapts. Returns the exit status (32: no such object) and each entry's attributes,
 * base64 values (`attr:: ...`) decoded.
 */
const ldapsearch = (base: string, scope: 'base' | 'one' | 'sub', filter = '(objectClass=*)', ...attributes: string[]) => {
  const result = spawnSync('ldapsearch', [
    '-x', '-LLL', '-o', 'ldif-wrap=no', '-H', server.url, '-D', server.bindDn, '-y', join(secretsDir, 'password'),
    '-b', base, '-s', scope, filter, ...attributes,
  ], { encoding: 'utf8', env: { ...process.env, LDAPNOINIT: '1' } });
  if (result.error) throw result.error;
  const entries = result.stdout.split(/\n\n+/).filter(Boolean).map((block) => {
    const entry = new Map<string, string[]>();
    for (const line of block.split('\n')) {
      const match = /^([\w;-]+)(::?) ?(.*)$/.exec(line);
      if (!match) continue;
      const value = match[2] === '::' ? Buffer.from(match[3]!, 'base64').toString('utf8') : match[3]!;
      entry.set(match[1]!.toLowerCase(), [...(entry.get(match[1]!.toLowerCase()) ?? []), value]);
    }
    return entry;
  });
  return { status: result.status, stderr: result.stderr, entries };
};

const members = (cn: string): string[] => {
  const read = ldapsearch(groupDn(cn), 'base', '(objectClass=*)', 'member');
  assert.equal(read.status, 0, read.stderr);
  return read.entries[0]?.get('member') ?? [];
};

const addMember = (cn: string, dn: string) =>
  admin.modify(groupDn(cn), new Change({ operation: 'add', modification: new Attribute({ type: 'member', values: [dn] }) }));

describe('the LDAP connector against a real OpenLDAP slapd', () => {
  before(async () => {
    server = await startSlapd([...Object.values(GROUPS), 'Domain Admins']);
    secretsDir = mkdtempSync(join(tmpdir(), 'tenure-ldap-secrets-'));
    writeFileSync(join(secretsDir, 'password'), server.password, { mode: 0o600 });
    process.env[passwordVar] = server.password;
    process.env[wrongVar] = 'not-the-password-0123456789';
    admin = new Client({ url: server.url });
    await admin.bind(server.bindDn, server.password);
  });
  after(async () => {
    delete process.env[passwordVar];
    delete process.env[wrongVar];
    await admin?.unbind();
    if (secretsDir) rmSync(secretsDir, { recursive: true, force: true });
    await server?.stop();
  });

  connectorContract('LDAP (OpenLDAP slapd)', () => connector(), {
    freshGrant: () => grantFor(freshHandle()),
    expectedAccess: (grant) => ({ account: prefix + grant.identityHandle, entitlement: grant.targetName }),
    unreachableConnector: () => connector({ url: 'ldap://127.0.0.1:1' }),
    secrets: () => [server.password],
  });

  describe('entries, memberships and removal on leave', () => {
    it('a provisioned user is an inetOrgPerson entry and a member of the group, when read back with ldapsearch', async () => {
      const handle = freshHandle();
      assert.deepEqual(await connector().provision(grantFor(handle)), { changed: true });
      const entry = ldapsearch(userDn(handle), 'base', '(objectClass=inetOrgPerson)', 'uid', 'cn', 'sn');
      assert.equal(entry.status, 0, entry.stderr);
      assert.deepEqual(entry.entries[0]?.get('uid'), [prefix + handle]);
      assert.deepEqual(entry.entries[0]?.get('cn'), [handle]);
      assert.ok(members(GROUPS[READ]!).includes(userDn(handle)));
      assert.ok(!members(GROUPS[WRITE]!).includes(userDn(handle)), 'no other group');
    });

    it('a user removed from the group no longer appears as a member when read back with ldapsearch', async () => {
      const leaving = freshHandle();
      const staying = freshHandle();
      await connector().provision(grantFor(leaving));
      await connector().provision(grantFor(staying));
      assert.deepEqual(await connector().deprovision(grantFor(leaving)), { changed: true });
      const after = members(GROUPS[READ]!);
      assert.ok(!after.includes(userDn(leaving)) && after.includes(userDn(staying)));
      assert.equal(ldapsearch(userDn(leaving), 'base').status, 32, 'the last grant deletes the entry');
      assert.equal(ldapsearch(userDn(staying), 'base').status, 0, 'others keep theirs');
    });

    it('removing one of two grants keeps the entry and the other membership', async () => {
      const handle = freshHandle();
      await connector().provision(grantFor(handle, READ));
      await connector().provision(grantFor(handle, WRITE));
      assert.deepEqual(await connector().deprovision(grantFor(handle, READ, { lastOnSystem: false })), { changed: true });
      assert.equal(ldapsearch(userDn(handle), 'base').status, 0);
      assert.ok(!members(GROUPS[READ]!).includes(userDn(handle)));
      assert.ok(members(GROUPS[WRITE]!).includes(userDn(handle)));
    });

    it('the last grant ending also clears hand-made memberships, so a later grant starts clean', async () => {
      const handle = freshHandle();
      await connector().provision(grantFor(handle));
      await addMember('Domain Admins', userDn(handle));
      await connector().deprovision(grantFor(handle));
      assert.ok(!members('Domain Admins').includes(userDn(handle)));
      assert.deepEqual(await connector().provision(grantFor(handle, WRITE)), { changed: true });
      assert.equal(ldapsearch(userDn(handle), 'base').status, 0, 'a new entry');
      assert.ok(!members('Domain Admins').includes(userDn(handle)), 'no resurrected membership');
    });

    it('a group never becomes empty and invalid when its last member leaves', async () => {
      const handle = freshHandle();
      const cn = `solo ${handle}`;
      await admin.add(groupDn(cn), { objectClass: 'groupOfNames', cn, member: userDn(handle) });
      const solo = connector({ groups: { solo: cn } });
      await solo.provision(grantFor(handle, 'solo'));
      assert.deepEqual(members(cn), [userDn(handle)], 'the user is the only member');
      assert.deepEqual(await solo.deprovision(grantFor(handle, 'solo')), { changed: true });
      assert.deepEqual(members(cn), [server.groupsDn], 'the placeholder keeps the group valid');
      assert.deepEqual(await solo.listAccess(), [], 'the placeholder is no access');
      assert.deepEqual(await solo.provision(grantFor(handle, 'solo')), { changed: true });
      assert.deepEqual(members(cn).sort(), [server.groupsDn, userDn(handle)].sort());
    });
  });

  describe('names from outside', () => {
    it('a handle with LDAP special characters cannot inject into a DN or filter', async () => {
      const bystander = freshHandle();
      await connector().provision(grantFor(bystander));
      const groupsBefore = ldapsearch(server.groupsDn, 'sub', '(objectClass=*)', '1.1').entries.length;
      const nasty = ['x,ou=groups,dc=tenure,dc=test', '*', 'y)(uid=*', 'z\\2Cq', '#h+a=b;c<d>"e"', 'ü ñ*\\'];
      for (const handle of nasty) {
        assert.deepEqual(await connector().provision(grantFor(handle)), { changed: true }, handle);
        // Found with scope one under usersDn by exact uid: the entry is a direct child, with the literal name.
        const filter = new EqualityFilter({ attribute: 'uid', value: prefix + handle }).toString();
        const found = ldapsearch(server.usersDn, 'one', filter, 'uid');
        assert.deepEqual(found.entries.map((entry) => entry.get('uid')), [[prefix + handle]], handle);
      }
      assert.equal(ldapsearch(server.groupsDn, 'sub', '(objectClass=*)', '1.1').entries.length, groupsBefore, 'nothing created among the groups');
      const access = await connector().listAccess();
      for (const handle of [bystander, ...nasty]) {
        assert.ok(access.some((entry) => entry.identityHandle === handle && entry.entitlement === READ), handle);
      }
      for (const handle of nasty) assert.deepEqual(await connector().deprovision(grantFor(handle)), { changed: true }, handle);
      assert.ok(members(GROUPS[READ]!).includes(userDn(bystander)), 'a wildcard-looking handle removed no one else');
      const left = new Set((await connector().listAccess()).map((entry) => entry.identityHandle));
      assert.ok(left.has(bystander) && nasty.every((handle) => !left.has(handle)));
    });

    it('a handle LDAP would need to quote is refused before any request', async () => {
      for (const handle of [' lead', 'trail ', 'nul\u0000', '']) {
        await assert.rejects(connector().provision(grantFor(handle)), (error: unknown) =>
          error instanceof TenureError && error.field === 'identityHandle');
      }
    });

    it('listAccess names Tenure\'s accounts by uid and handle, and shows every other member by its DN with no handle', async () => {
      const handle = freshHandle();
      await connector().provision(grantFor(handle, WRITE));
      const elsewhere = `uid=${prefix}elsewhere,${server.suffix}`;
      const other = `uid=other-${handle},${server.usersDn}`;
      await addMember(GROUPS[WRITE]!, elsewhere);
      await addMember(GROUPS[WRITE]!, other);
      const access = (await connector().listAccess()).filter((entry) => entry.entitlement === WRITE);
      assert.deepEqual(access.find((entry) => entry.identityHandle === handle),
        { account: prefix + handle, identityHandle: handle, entitlement: WRITE, attributes: { dn: userDn(handle) } });
      for (const dn of [elsewhere, other]) {
        assert.deepEqual(access.find((entry) => entry.account === dn), { account: dn, identityHandle: null, entitlement: WRITE, attributes: { dn } });
      }
    });

    it('listAccess follows nested groups and memberUid, and revokeMembership removes only the hand-added values of a managed group', async () => {
      const nestedGroup = `cn=nested-${process.pid},${server.groupsDn}`;
      const insider = `uid=insider-${process.pid},${server.suffix}`;
      await admin.add(nestedGroup, { objectClass: ['top', 'groupOfNames'], cn: `nested-${process.pid}`, member: [insider] });
      await addMember(GROUPS[READ]!, nestedGroup);
      // memberUid lives in posixGroup; extensibleObject lets a managed groupOfNames carry it, as a hand edit might.
      await admin.modify(groupDn(GROUPS[READ]!), [
        new Change({ operation: 'add', modification: new Attribute({ type: 'objectClass', values: ['extensibleObject'] }) }),
        new Change({ operation: 'add', modification: new Attribute({ type: 'memberUid', values: ['mallory'] }) }),
      ]);
      const access = (await connector().listAccess()).filter((entry) => entry.entitlement === READ);
      assert.deepEqual(access.find((entry) => entry.account === nestedGroup)?.via, undefined, 'the nested group is a direct member');
      assert.equal(access.find((entry) => entry.account === insider)?.via, nestedGroup, 'its member reaches the group through it');
      assert.ok(access.some((entry) => entry.account === 'memberUid:mallory' && entry.identityHandle === null));

      assert.deepEqual(await connector().revokeMembership(nestedGroup, READ), { changed: true });
      assert.deepEqual(await connector().revokeMembership('memberUid:mallory', READ), { changed: true });
      assert.deepEqual(await connector().revokeMembership('memberUid:mallory', READ), { changed: false }, 'idempotent');
      const after = (await connector().listAccess()).filter((entry) => entry.entitlement === READ);
      assert.ok(!after.some((entry) => [nestedGroup, insider, 'memberUid:mallory'].includes(entry.account)));
      assert.equal(ldapsearch(nestedGroup, 'base', '(objectClass=*)', 'member').entries[0]?.get('member')?.[0], insider,
        'the nested group itself is not Tenure\'s to touch');
      await assert.rejects(connector().revokeMembership(nestedGroup, 'Domain Admins'), (error: unknown) =>
        error instanceof TenureError && error.field === 'entitlement');
    });
  });

  describe('credentials, configuration and refusals', () => {
    it('the password secret reference is resolved and never appears in check() details', async () => {
      const fromFile = await connector({ bindPassword: `file:${join(secretsDir, 'password')}` }).check();
      assert.equal(fromFile.ok, true, fromFile.detail);
      assert.ok(!fromFile.detail.includes(server.password));
      const wrong = await connector({ bindPassword: `env:${wrongVar}` }).check();
      assert.equal(wrong.ok, false);
      assert.match(wrong.detail, /refused the bind as cn=admin,dc=tenure,dc=test: InvalidCredentialsError \(49\)/);
      assert.ok(!wrong.detail.includes(process.env[wrongVar]!) && !wrong.detail.includes(server.password));
      const inline = connector({ bindPassword: server.password });
      const inlineCheck = await inline.check();
      assert.equal(inlineCheck.ok, false);
      assert.ok(!inlineCheck.detail.includes(server.password));
      await assert.rejects(inline.provision(grantFor(freshHandle())), (error: unknown) =>
        error instanceof TenureError && error.field === 'bindPassword' && !error.message.includes(server.password));
    });

    it('a target name not in the configured groups is refused', async () => {
      const handle = freshHandle();
      const grant = grantFor(handle, 'Domain Admins');
      for (const operation of [() => connector().provision(grant), () => connector().deprovision(grant)]) {
        await assert.rejects(operation, (error: unknown) =>
          error instanceof TenureError && error.code === 'input.invalid' && error.field === 'targetName');
      }
      assert.equal(ldapsearch(userDn(handle), 'base').status, 32, 'no entry created');
      assert.ok(!members('Domain Admins').includes(userDn(handle)));
    });

    it('a missing group fails provisioning before any entry is created, and check() names it', async () => {
      const handle = freshHandle();
      const missing = connector({ groups: ['No Such Group'] });
      await assert.rejects(missing.provision(grantFor(handle, 'No Such Group')), /has no group cn=No Such Group,ou=groups/);
      assert.equal(ldapsearch(userDn(handle), 'base').status, 32);
      const check = await missing.check();
      assert.equal(check.ok, false);
      assert.match(check.detail, /has no group No Such Group/);
    });

    it('a configuration with a bad url, DN or group list is refused with the field named', () => {
      const cases: [Partial<LdapConfig>, string][] = [
        [{ url: 'http://127.0.0.1:389' }, 'url'], [{ url: 'ldap://user:pw@127.0.0.1' }, 'url'],
        [{ usersDn: 'people' }, 'usersDn'], [{ groupsDn: '' }, 'groupsDn'], [{ groups: [] }, 'groups'],
        [{ groups: { read: ' padded' } }, 'groups'], [{ uidPrefix: ' t-' }, 'uidPrefix'], [{ timeoutMs: 0 }, 'timeoutMs'],
      ];
      for (const [overrides, field] of cases) {
        assert.throws(() => connector(overrides), (error: unknown) => error instanceof TenureError && error.field === field, field);
      }
    });
  });
});
