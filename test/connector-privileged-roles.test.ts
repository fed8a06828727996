import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import type { ConnectorGrant } from '../src/connectors/contract.js';
import { PostgresRolesConnector } from '../src/connectors/postgres-roles.js';
import { TenureError } from '../src/domain/errors.js';
import { startPgTarget, type PgTarget } from './support/provisioning-world.js';

const HOUR = 3_600_000;
const ident = pg.escapeIdentifier;

/**
 * A DBA (or an attacker with the DBA's hands) makes a managed role more than it looks: the policy
 * names an ordinary role, but the target is what decides what a member of it can do.
 */
describe('the PostgreSQL connector asks the target what each managed role can do, on a real PostgreSQL 15', () => {
  let target: PgTarget;
  let bypass: string;
  let reader: string;
  let handles = 0;

  const connector = (roles: string[], privilegedRoles: string[] = []) =>
    new PostgresRolesConnector({ url: `env:${target.urlVar}`, rolePrefix: target.prefix, roles, privilegedRoles });
  const grantOf = (role: string): ConnectorGrant => {
    handles += 1;
    const endsAt = new Date(Date.now() + 8 * HOUR);
    return { grantId: `grant-${handles}`, identityHandle: `pat${handles}`, entitlementKey: `payments/${role}`, targetName: role,
      startsAt: new Date(), endsAt, accountEndsAt: endsAt, lastOnSystem: true };
  };
  const loginExists = async (grant: ConnectorGrant) => (await target.admin((client) =>
    client.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [`${target.prefix}${grant.identityHandle}`]))).rowCount === 1;

  before(async () => {
    target = await startPgTarget();
    bypass = `${target.roles.read}_bypass`;
    reader = `${target.roles.read}_everything`;
    await target.admin((client) => client.query(`CREATE ROLE ${ident(bypass)} NOLOGIN BYPASSRLS;
      CREATE ROLE ${ident(reader)} NOLOGIN; GRANT pg_read_all_data TO ${ident(reader)};`));
  });
  after(async () => { await target?.stop(); });

  it('check() reports a managed role with BYPASSRLS, one that reaches pg_read_all_data, and the connector\'s own role as unsafe', async () => {
    const conn = connector([target.roles.read, bypass, reader, 'postgres']);
    const checked = await conn.check();
    await conn.close?.();
    const lines = checked.unsafe ?? [];
    assert.ok(lines.some((l) => l.startsWith(`managed role ${bypass} has BYPASSRLS`)), lines.join('; '));
    assert.ok(lines.some((l) => l.startsWith(`managed role ${reader} is a member of pg_read_all_data`)), lines.join('; '));
    assert.ok(lines.some((l) => l.startsWith('managed role postgres is the connector\'s own role, is a superuser')), lines.join('; '));
    assert.ok(!lines.some((l) => l.includes(`managed role ${target.roles.read} `)), 'an ordinary role is not reported');
  });

  it('such a role is never granted: the provisioning fails with connector.privileged_target and creates nothing in the target', async () => {
    const conn = connector([bypass, reader]);
    for (const role of [bypass, reader]) {
      const grant = grantOf(role);
      await assert.rejects(conn.provision(grant),
        (error: unknown) => error instanceof TenureError && error.code === 'connector.privileged_target' && error.message.includes(role));
      assert.equal(await loginExists(grant), false, 'the refusal rolled the whole grant back, login role included');
    }
    await conn.close?.();
    assert.deepEqual((await target.memberships()).filter((m) => m.endsWith(bypass) || m.endsWith(reader)), []);
  });

  it('a DBA who gives a managed role BYPASSRLS after it was checked is still caught at the next grant', async () => {
    const later = `${target.roles.read}_later`;
    await target.admin((client) => client.query(`CREATE ROLE ${ident(later)} NOLOGIN`));
    const conn = connector([later]);
    assert.ok(!(await conn.check()).unsafe!.some((l) => l.includes(later)), 'ordinary when checked');
    await conn.provision(grantOf(later));
    await target.admin((client) => client.query(`ALTER ROLE ${ident(later)} BYPASSRLS`));
    await assert.rejects(conn.provision(grantOf(later)), (error: unknown) => error instanceof TenureError && error.code === 'connector.privileged_target');
    await conn.close?.();
  });

  it('a role the policy declares privileged_target is granted and not reported', async () => {
    const conn = connector([bypass], [bypass]);
    assert.ok(!(await conn.check()).unsafe!.some((l) => l.includes(bypass)));
    const grant = grantOf(bypass);
    assert.equal((await conn.provision(grant)).changed, true);
    assert.ok((await target.memberships()).includes(`${target.prefix}${grant.identityHandle} ${bypass}`));
    await conn.close?.();
  });
});
