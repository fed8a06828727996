/**
 * Shared operational accounts on a postgres-roles system (docs/sessions.md): the entitlement's role
 * is itself a login role (`app_admin`) that the PostgreSQL proxy signs in as for whoever has it
 * checked out. Nothing is given to the person's own login role, and no password is handed out: the
 * target trusts the proxy for it, as for managed login roles. When the check-out ends, the role's
 * password is replaced by a fresh random one that nobody keeps, so whoever once knew a password of
 * it (before Tenure managed it, or a DBA who set one) cannot sign in with it any more.
 */
import { createHash, randomBytes } from 'node:crypto';
import pg from 'pg';
import type { ConnectorOutcome } from './contract.js';
import { scramVerifier } from './scram.js';

const { escapeIdentifier: ident, escapeLiteral: literal } = pg;

/** What the connector lends these operations: a transaction under its per-role lock, and the check of undeclared powers. */
export interface SharedAccountContext {
  inRoleTransaction<T>(role: string, work: (client: pg.PoolClient) => Promise<T>): Promise<T>;
  refuseUndeclaredPowers(client: pg.Client, role: string): Promise<void>;
}

/**
 * The check-out: the shared role must exist (the DBA made it, with what it may do) and be able to
 * sign in, for the proxy to sign in as it. Its LOGIN is not taken away at the end: the previous
 * holder's removal may run after the next holder's check-out, and must not lock them out.
 */
export const provisionShared = (ctx: SharedAccountContext, role: string): Promise<ConnectorOutcome> =>
  ctx.inRoleTransaction(role, async (client) => {
    await ctx.refuseUndeclaredPowers(client, role);
    const { rows } = await client.query<{ rolcanlogin: boolean }>('SELECT rolcanlogin FROM pg_roles WHERE rolname = $1', [role]);
    if (!rows[0]) throw new Error(`the shared account ${role} does not exist in the target: create it (with what it may do) first`);
    if (rows[0].rolcanlogin) return { changed: false };
    await client.query(`ALTER ROLE ${ident(role)} LOGIN`);
    return { changed: true };
  });

/** pg_authid is readable by superusers only, unless granted: the error says how to let the connector prove the rotation. */
const readVerifier = async (client: pg.Client, role: string): Promise<string | null> => {
  try {
    const { rows } = await client.query<{ rolpassword: string | null }>('SELECT rolpassword FROM pg_authid WHERE rolname = $1', [role]);
    return rows[0]?.rolpassword ?? null;
  } catch (error) {
    if ((error as { code?: string }).code !== '42501') throw error;
    throw new Error(`the connector's role cannot read pg_authid.rolpassword, so the rotation of ${role} cannot be read back: `
      + 'make it superuser or GRANT SELECT (rolname, rolpassword) ON pg_authid TO it');
  }
};

const sha256 = (value: string): string => createHash('sha256').update(value, 'utf8').digest('hex');

/**
 * The end of a check-out (check-in, expiry, revocation): a fresh random password, sent as a SCRAM
 * verifier computed here, so the password itself never leaves this function and is kept nowhere.
 * Read back in the same transaction: the stored verifier must be the new one. Run twice, it rotates
 * twice, which is harmless. Open sessions are not terminated here: the proxy ends its sessions at
 * the grant's end, and the next holder's session may already be open on the same role.
 */
export const rotateShared = (ctx: SharedAccountContext, role: string): Promise<ConnectorOutcome> =>
  ctx.inRoleTransaction(role, async (client) => {
    const before = await readVerifier(client, role);
    const { rowCount } = await client.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [role]);
    if (!rowCount) throw new Error(`the shared account ${role} does not exist in the target`);
    const verifier = scramVerifier(randomBytes(32).toString('base64url'));
    await client.query(`ALTER ROLE ${ident(role)} PASSWORD ${literal(verifier)}`);
    const after = await readVerifier(client, role);
    if (after !== verifier || after === before) throw new Error(`read-after-rotate: the password of ${role} is not the one just set`);
    return { changed: true, rotation: { beforeSha256: before === null ? null : sha256(before), afterSha256: sha256(after) } };
  });

/** For check(): what would make a check-out or its rotation fail, in words (empty: nothing). */
export const sharedAccountProblems = async (client: pg.Client, roles: string[]): Promise<string[]> => {
  if (roles.length === 0) return [];
  const { rows } = await client.query<{ rolname: string }>('SELECT rolname FROM pg_roles WHERE rolname = ANY($1::text[])', [roles]);
  const missing = roles.filter((role) => !rows.some((r) => r.rolname === role));
  const { rows: [may] } = await client.query<{ read: boolean }>(
    "SELECT pg_catalog.has_column_privilege('pg_catalog.pg_authid', 'rolpassword', 'SELECT') AS read");
  return [
    ...(missing.length > 0 ? [`shared account role(s) ${missing.join(', ')} do not exist`] : []),
    ...(may?.read ? [] : ['the role cannot read pg_authid.rolpassword, so the rotation of shared accounts cannot be read back '
      + '(GRANT SELECT (rolname, rolpassword) ON pg_authid TO it)']),
  ];
};
