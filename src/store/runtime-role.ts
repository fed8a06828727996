import { sql } from 'drizzle-orm';
import { TenureError } from '../domain/errors.js';
import { rawRows, type Db } from './database.js';

/** Tables whose rows are only ever added: the runtime role may read and insert, nothing else. */
export const APPEND_ONLY_TABLES = ['audit_events', 'audit_checkpoints'] as const;

const ROLE_NAME = /^[a-z_][a-z0-9_$]{0,62}$/;

const quoteIdent = (name: string): string => `"${name.replace(/"/g, '""')}"`;

interface RoleFacts { exists: boolean; superuser: boolean; bypassesRls: boolean; ownerMember: boolean; owner: string }

const roleFacts = async (db: Db, role: string): Promise<RoleFacts> => {
  const [row] = await rawRows<{ exists: boolean; superuser: boolean | null; bypass: boolean | null; owner_member: boolean | null; owner: string }>(db, sql`
    SELECT r.rolname IS NOT NULL AS exists, r.rolsuper AS superuser, r.rolbypassrls AS bypass,
           CASE WHEN r.rolname IS NULL THEN NULL ELSE pg_has_role(r.rolname, t.tableowner, 'MEMBER') END AS owner_member,
           t.tableowner AS owner
    FROM pg_tables t LEFT JOIN pg_roles r ON r.rolname = ${role}
    WHERE t.schemaname = 'public' AND t.tablename = 'audit_events'`);
  if (!row) throw new Error('the database has no audit_events table: run the migrations as the owner first');
  return { exists: row.exists, superuser: row.superuser === true, bypassesRls: row.bypass === true, ownerMember: row.owner_member === true, owner: row.owner };
};

/**
 * Grants `role` what `serve` and `worker` need and nothing that could rewrite the audit log: every
 * table read and written, except the audit events and checkpoints (SELECT and INSERT only) and the
 * chain head (SELECT and UPDATE). Only the owner can ALTER a table, and so disable its triggers;
 * that role must not be the owner, a member of it, or a superuser. Run as the owner, after each
 * upgrade's migrations (it is idempotent); default privileges cover tables added meanwhile.
 */
export const grantRuntimeRole = async (db: Db, role: string): Promise<{ role: string; owner: string }> => {
  if (!ROLE_NAME.test(role)) {
    throw new TenureError('input.invalid', `role: '${role}' is not a plain lower-case PostgreSQL role name`, { field: 'role' });
  }
  const facts = await roleFacts(db, role);
  if (!facts.exists) throw new TenureError('input.invalid', `role: '${role}' does not exist (CREATE ROLE ${role} LOGIN PASSWORD '…' first)`, { field: 'role' });
  if (facts.superuser || facts.bypassesRls || facts.ownerMember) {
    throw new TenureError('input.invalid', `role: '${role}' is a superuser or a member of the owner ${facts.owner}: it could disable the audit triggers`, { field: 'role' });
  }
  const r = sql.raw(quoteIdent(role));
  const owner = sql.raw(quoteIdent(facts.owner));
  const appendOnly = sql.raw(APPEND_ONLY_TABLES.join(', '));
  await db.transaction(async (tx) => {
    const [database] = await rawRows<{ name: string }>(tx, sql`SELECT current_database() AS name`);
    await tx.execute(sql`GRANT CONNECT, TEMPORARY ON DATABASE ${sql.raw(quoteIdent(database!.name))} TO ${r}`);
    await tx.execute(sql`GRANT USAGE ON SCHEMA public TO ${r}`);
    await tx.execute(sql`GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO ${r}`);
    await tx.execute(sql`REVOKE UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER ON ${appendOnly} FROM ${r}`);
    await tx.execute(sql`REVOKE INSERT, DELETE, TRUNCATE, REFERENCES, TRIGGER ON audit_head FROM ${r}`);
    await tx.execute(sql`GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO ${r}`);
    await tx.execute(sql`ALTER DEFAULT PRIVILEGES FOR ROLE ${owner} IN SCHEMA public GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO ${r}`);
    await tx.execute(sql`ALTER DEFAULT PRIVILEGES FOR ROLE ${owner} IN SCHEMA public GRANT USAGE, SELECT ON SEQUENCES TO ${r}`);
    // The runtime still opens the store through the migrator, which only reads what was applied.
    await tx.execute(sql`GRANT USAGE ON SCHEMA drizzle TO ${r}`);
    await tx.execute(sql`GRANT SELECT ON ALL TABLES IN SCHEMA drizzle TO ${r}`);
  });
  return { role, owner: facts.owner };
};
