import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { TenureError } from '../domain/errors.js';

/** Runs one query and gives its rows: PGlite's client and a pg client both fit. */
type Query = (text: string) => Promise<{ rows: unknown[] }>;

interface Journal { entries: { when: number; tag: string }[] }

/** The newest migration this release carries: its tag and the timestamp drizzle records for it. */
export const newestKnownMigration = (migrationsFolder: string): { tag: string; when: number } => {
  const journal = JSON.parse(readFileSync(join(migrationsFolder, 'meta', '_journal.json'), 'utf8')) as Journal;
  const last = journal.entries.at(-1);
  if (!last) throw new Error(`${migrationsFolder}: the migration journal lists no migrations`);
  return last;
};

/**
 * Refuses a database that a newer release has migrated, and says whether it is already at this
 * release's last migration. drizzle applies only migrations newer than the database's last one and
 * says nothing about ones it does not know, so without this an older release (a rollback of the
 * binaries without a restore) would run on a schema whose columns, constraints and triggers it was
 * never written for: writes that silently skip a new guarantee. Checked before migrating, on the
 * connection that holds the migration lock.
 */
export const checkSchemaVersion = async (query: Query, migrationsFolder: string): Promise<'current' | 'behind'> => {
  const table = await query("SELECT to_regclass('drizzle.__drizzle_migrations') IS NOT NULL AS present");
  if (!(table.rows[0] as { present: boolean } | undefined)?.present) return 'behind';
  const applied = await query('SELECT max(created_at)::text AS at FROM drizzle.__drizzle_migrations');
  const at = (applied.rows[0] as { at: string | null } | undefined)?.at;
  const known = newestKnownMigration(migrationsFolder);
  if (at === null || at === undefined || Number(at) < known.when) return 'behind';
  if (Number(at) === known.when) return 'current';
  throw new TenureError('store.schema_newer',
    `the database has a migration from ${new Date(Number(at)).toISOString()}, newer than this release's last (${known.tag}, `
    + `${new Date(known.when).toISOString()}): a newer Tenure migrated it. Run that release or newer, or restore the backup taken before the upgrade (docs/operations.md, Upgrade)`);
};
