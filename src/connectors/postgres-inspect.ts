/**
 * What the PostgreSQL roles connector reads to see everything a managed role gives, and what its own
 * role can do. Functions over a connected client, so postgres-roles.ts keeps the writes.
 */
import type pg from 'pg';
import type { AccessEntry, AccountState } from './contract.js';

/**
 * Roles that reach the operating system or every row of every table. A connector that is one, or can
 * become one, turns a leaked connector URL into commands on the database host or a copy of all data.
 */
export const DANGEROUS_ROLES = ['pg_execute_server_program', 'pg_read_server_files', 'pg_write_server_files', 'pg_read_all_data', 'pg_write_all_data'];

/** Nesting deeper than this is not followed (and would be a finding in itself). */
const MAX_DEPTH = 10;

/**
 * Every member of every managed role, direct or through other roles, except the managed roles
 * themselves (a managed role inside another is the DBA's hierarchy: its members are listed under it)
 * and the connector's own role. `via` is the direct member of the managed role the access comes
 * through; a member seen by several paths is listed once, direct first.
 */
export const readMemberships = async (client: pg.Client, roles: string[], prefix: string): Promise<AccessEntry[]> => {
  const { rows } = await client.query<{ account: string; entitlement: string; via: string | null; can_login: boolean; valid_until: unknown }>(
    `WITH RECURSIVE managed AS (SELECT oid FROM pg_roles WHERE rolname = ANY($1::text[])),
     reach(target, member, via, depth) AS (
       SELECT m.roleid, m.member, NULL::oid, 1 FROM pg_auth_members m WHERE m.roleid IN (SELECT oid FROM managed)
       UNION
       SELECT r.target, m.member, coalesce(r.via, r.member), r.depth + 1
         FROM reach r JOIN pg_auth_members m ON m.roleid = r.member
        WHERE r.depth < ${MAX_DEPTH} AND r.member NOT IN (SELECT oid FROM managed))
     SELECT DISTINCT ON (u.rolname, g.rolname) u.rolname AS account, g.rolname AS entitlement, v.rolname AS via,
            u.rolcanlogin AS can_login, u.rolvaliduntil AS valid_until
       FROM reach r JOIN pg_roles u ON u.oid = r.member JOIN pg_roles g ON g.oid = r.target LEFT JOIN pg_roles v ON v.oid = r.via
      WHERE r.member NOT IN (SELECT oid FROM managed) AND u.rolname <> current_user
      ORDER BY u.rolname, g.rolname, r.via NULLS FIRST, r.depth`, [roles]);
  return rows.map((row) => ({
    account: row.account,
    identityHandle: row.account.startsWith(prefix) && row.account.length > prefix.length ? row.account.slice(prefix.length) : null,
    entitlement: row.entitlement,
    ...(row.via === null ? {} : { via: row.via }),
    attributes: { canLogin: row.can_login, validUntil: row.valid_until instanceof Date ? row.valid_until.toISOString() : null },
  }));
};

/** Every role named by the rule (prefix + handle), members or not: an account with no membership left can still sign in. */
export const readAccounts = async (client: pg.Client, prefix: string): Promise<AccountState[]> => {
  const { rows } = await client.query<{ account: string; can_login: boolean; valid_until: unknown }>(
    `SELECT rolname AS account, rolcanlogin AS can_login, rolvaliduntil AS valid_until FROM pg_roles
      WHERE left(rolname, length($1)) = $1 AND length(rolname) > length($1) ORDER BY 1`, [prefix]);
  return rows.map((row) => ({
    account: row.account, identityHandle: row.account.slice(prefix.length), canLogin: row.can_login,
    // PostgreSQL reads 'infinity' back as an Infinity date: no end.
    validUntil: row.valid_until instanceof Date && Number.isFinite(row.valid_until.getTime()) ? row.valid_until : null,
  }));
};

export interface Powers { version: number; who: string; mayCreateRoles: boolean; unsafe: string[] }

/**
 * What the connector's own role can do beyond managing roles, in words for a finding. Up to
 * PostgreSQL 15, CREATEROLE may grant any non-superuser role, so it is itself a road to the dangerous
 * roles; from 16 it may grant only roles it holds with ADMIN OPTION.
 */
export const readPowers = async (client: pg.Client): Promise<Powers> => {
  const { rows } = await client.query<{ version: number; who: string; rolsuper: boolean; rolcreaterole: boolean; rolbypassrls: boolean;
    rolreplication: boolean; member_of: string[]; admin_of: string[] }>(
    `SELECT current_setting('server_version_num')::int AS version, current_user AS who, r.rolsuper, r.rolcreaterole, r.rolbypassrls, r.rolreplication,
            ARRAY(SELECT d FROM unnest($1::text[]) d WHERE to_regrole(d) IS NOT NULL AND pg_has_role(current_user, d, 'MEMBER')) AS member_of,
            ARRAY(SELECT d FROM unnest($1::text[]) d WHERE to_regrole(d) IS NOT NULL AND pg_has_role(current_user, d, 'MEMBER WITH ADMIN OPTION')) AS admin_of
       FROM pg_roles r WHERE r.rolname = current_user`, [DANGEROUS_ROLES]);
  const row = rows[0]!;
  const unsafe: string[] = [];
  if (row.rolsuper) {
    unsafe.push(`${row.who} is a superuser: it can do anything, including run commands on the database host`);
    return { version: row.version, who: row.who, mayCreateRoles: true, unsafe };
  }
  if (row.rolbypassrls) unsafe.push(`${row.who} has BYPASSRLS: row-level security does not apply to it`);
  if (row.rolreplication) unsafe.push(`${row.who} has REPLICATION: it can stream a copy of all data`);
  for (const role of row.member_of) unsafe.push(`${row.who} is a member of ${role}`);
  for (const role of row.admin_of.filter((r) => !row.member_of.includes(r))) unsafe.push(`${row.who} can grant itself ${role} (ADMIN OPTION)`);
  if (row.rolcreaterole && row.version < 160000) {
    unsafe.push(`${row.who} has CREATEROLE on PostgreSQL ${Math.floor(row.version / 10000)}, where it can grant itself any non-superuser role,`
      + ' pg_execute_server_program (commands on the database host) and pg_read_all_data among them: see docs/connectors.md');
  }
  return { version: row.version, who: row.who, mayCreateRoles: row.rolcreaterole, unsafe };
};

/**
 * What a role still owns or holds anywhere in the cluster (pg_shdepend covers every database) and
 * the memberships it granted to others, in words. Objects in the connector's own database are named;
 * elsewhere only the database is known.
 */
export const readLeftovers = async (client: pg.Client, role: string): Promise<string[]> => {
  const { rows } = await client.query<{ line: string }>(
    `WITH r AS (SELECT oid FROM pg_roles WHERE rolname = $1), here AS (SELECT oid FROM pg_database WHERE datname = current_database())
     SELECT CASE s.deptype WHEN 'o' THEN 'owns ' WHEN 'a' THEN 'holds privileges on ' WHEN 'r' THEN 'is named in ' ELSE 'depends on ' END
            || CASE WHEN s.dbid IN (0, (SELECT oid FROM here)) THEN pg_describe_object(s.classid, s.objid, s.objsubid)
                    ELSE 'an object in database ' || coalesce(d.datname, s.dbid::text) || ' (handle it there)' END AS line
       FROM pg_shdepend s LEFT JOIN pg_database d ON d.oid = s.dbid
      WHERE s.refclassid = 'pg_authid'::regclass AND s.refobjid = (SELECT oid FROM r) AND s.deptype IN ('o', 'a', 'r', 'i')
     UNION ALL
     SELECT 'granted ' || g.rolname || ' to ' || u.rolname FROM pg_auth_members m JOIN pg_roles g ON g.oid = m.roleid
       JOIN pg_roles u ON u.oid = m.member WHERE m.grantor = (SELECT oid FROM r) AND m.member <> (SELECT oid FROM r)
     ORDER BY 1`, [role]);
  return rows.map((row) => row.line);
};

/**
 * What each managed role would hand its members beyond its own tables: being the connector's own
 * role, superuser, BYPASSRLS, REPLICATION, CREATEROLE, or membership (at any depth) of a role that
 * reaches the host or all data. Policy names a built-in role as privileged on purpose
 * (`privileged_target`), but only the target knows what an ordinary-looking role can do, so it is
 * asked. Roles that do not exist yet say nothing.
 */
export const readManagedRolePowers = async (client: pg.Client, roles: string[]): Promise<Map<string, string[]>> => {
  const { rows } = await client.query<{ role: string; own: boolean; rolsuper: boolean; rolbypassrls: boolean; rolreplication: boolean;
    rolcreaterole: boolean; reaches: string[] }>(
    `SELECT r.rolname AS role, r.rolname = current_user AS own, r.rolsuper, r.rolbypassrls, r.rolreplication, r.rolcreaterole,
            ARRAY(SELECT d FROM unnest($2::text[]) d WHERE to_regrole(d) IS NOT NULL AND pg_has_role(r.oid, d::regrole, 'MEMBER')) AS reaches
       FROM pg_roles r WHERE r.rolname = ANY($1::text[])`, [roles, DANGEROUS_ROLES]);
  const powers = new Map<string, string[]>();
  for (const row of rows) {
    const found = [
      ...(row.own ? ['is the connector\'s own role'] : []),
      ...(row.rolsuper ? ['is a superuser'] : []),
      ...(row.rolbypassrls ? ['has BYPASSRLS'] : []),
      ...(row.rolreplication ? ['has REPLICATION'] : []),
      ...(row.rolcreaterole ? ['has CREATEROLE'] : []),
      ...row.reaches.map((role) => `is a member of ${role}`),
    ];
    if (found.length > 0) powers.set(row.role, found);
  }
  return powers;
};
