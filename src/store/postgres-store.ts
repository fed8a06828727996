/** The PostgreSQL server half of the store, imported only when DATABASE_URL is used (see openPostgres). */
import { drizzle as drizzlePg } from 'drizzle-orm/node-postgres';
import { migrate as migratePg } from 'drizzle-orm/node-postgres/migrator';
import pg from 'pg';
import { loadConnectionSettings } from './connection-settings.js';
import { migrationsFolder, redactUrl, schema, type Db, type PostgresOptions, type Store } from './database.js';
import { createPool } from './pool.js';
import { checkSchemaVersion } from './schema-version.js';

/** Any constant works; it only has to be the same in every Tenure process sharing a server. */
const MIGRATION_LOCK_KEY = 7_301_442_118;

/**
 * Migrates as the owner role over its own short-lived connection, so the pool can connect as a
 * runtime role that may not ALTER, UPDATE or DELETE the audit tables (docs/audit.md).
 */
const migrateAsOwner = async (migrationUrl: string): Promise<void> => {
  const client = new pg.Client({ connectionString: migrationUrl });
  client.on('error', (error) => { process.emitWarning(`PostgreSQL migration connection lost: ${error.message}`); });
  await client.connect();
  try {
    await client.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
    if (await checkSchemaVersion((text) => client.query(text), migrationsFolder) === 'behind') await migratePg(drizzlePg(client), { migrationsFolder });
  } finally {
    await client.end().catch(() => undefined);
  }
};

/**
 * Migrates on one connection holding the migration lock (a pool of one would otherwise wait for
 * itself). Already migrated as the owner (`migrated`): the runtime role only waits for any other
 * migrator to finish, and still refuses a schema newer than this release.
 */
const migrateUnderLock = async (pool: pg.Pool, migrated: boolean): Promise<void> => {
  const lockClient = await pool.connect();
  try {
    await lockClient.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
    const version = await checkSchemaVersion((text) => lockClient.query(text), migrationsFolder);
    if (!migrated && version === 'behind') await migratePg(drizzlePg(lockClient), { migrationsFolder });
  } finally {
    await lockClient.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY]).catch(() => undefined);
    lockClient.release();
  }
};

/**
 * Opens a pool to a PostgreSQL server and migrates it; concurrent starters wait for one migrator.
 * With `migrationUrl` (TENURE_MIGRATION_DATABASE_URL) the migrations run as that role instead.
 */
export const openPostgresStore = async (url: string, options: PostgresOptions = {}): Promise<Store> => {
  if (options.migrationUrl && options.migrationUrl !== url) await migrateAsOwner(options.migrationUrl);
  const pool = createPool(url, options.connection ?? loadConnectionSettings(), options.max === undefined ? {} : { max: options.max });
  try {
    await migrateUnderLock(pool, Boolean(options.migrationUrl && options.migrationUrl !== url));
  } catch (error) {
    // A refused or failed start leaves no pool behind to keep the process alive.
    await pool.end().catch(() => undefined);
    throw error;
  }
  const db = drizzlePg(pool, { schema }) as unknown as Db;
  return { db, backend: 'postgres', location: redactUrl(url), close: () => pool.end() };
};
