/** The PostgreSQL server half of the store, imported only when DATABASE_URL is used (see openPostgres). */
import { drizzle as drizzlePg } from 'drizzle-orm/node-postgres';
import { migrate as migratePg } from 'drizzle-orm/node-postgres/migrator';
import pg from 'pg';
import { loadConnectionSettings, type ConnectionSettings } from './connection-settings.js';
import { migrationsFolder, redactUrl, schema, type Db, type PostgresOptions, type Store } from './database.js';
import { createPool } from './pool.js';
import { openReadReplica } from './read-replica.js';
import { checkSchemaVersion } from './schema-version.js';

/** Any constant works; it only has to be the same in every Tenure process sharing a server. */
const MIGRATION_LOCK_KEY = 7_301_442_118;

/**
 * Holding the migration lock (a session advisory lock, so `client` must be a session of its own and
 * never one behind a transaction pooler), waits for any other migrator, refuses a schema newer than
 * this release, and migrates when `migrate` is true and the schema is behind.
 */
const migrateOn = async (client: pg.Client | pg.PoolClient, migrate: boolean): Promise<void> => {
  await client.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
  try {
    const version = await checkSchemaVersion((text) => client.query(text), migrationsFolder);
    if (migrate && version === 'behind') await migratePg(drizzlePg(client), { migrationsFolder });
  } finally {
    await client.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY]).catch(() => undefined);
  }
};

/** Runs `fn` on a short-lived connection of its own to `url` (no pool: the migration lock is per session). */
const onOwnConnection = async (url: string, settings: ConnectionSettings, fn: (client: pg.Client) => Promise<void>): Promise<void> => {
  const client = new pg.Client({ connectionString: url, application_name: `${settings.applicationName}-migrate`, connectionTimeoutMillis: settings.connectTimeoutMs });
  client.on('error', (error) => { process.emitWarning(`PostgreSQL migration connection lost: ${error.message}`); });
  await client.connect();
  try {
    await fn(client);
  } finally {
    await client.end().catch(() => undefined);
  }
};

/**
 * Behind a transaction pooler the server-side timeouts cannot be sent per connection, so they must be
 * the role's: say so at start when the role has none, rather than let a runaway statement run forever.
 */
const warnWithoutRoleTimeouts = async (pool: pg.Pool): Promise<void> => {
  const { rows } = await pool.query<{ statement: string; idle: string }>(
    "SELECT current_setting('statement_timeout') AS statement, current_setting('idle_in_transaction_session_timeout') AS idle");
  const unset = Object.entries(rows[0] ?? {}).filter(([, value]) => value === '0').map(([name]) => name);
  if (unset.length > 0) {
    process.emitWarning(`DATABASE_URL goes through a pooler (TENURE_DIRECT_DATABASE_URL is set) and the role has no ${unset.join(' or ')} timeout:`
      + ' set them on the role (ALTER ROLE … SET statement_timeout = …), see docs/high-availability.md');
  }
};

/**
 * Opens a pool to a PostgreSQL server and migrates it; concurrent starters wait for one migrator.
 * With `migrationUrl` (TENURE_MIGRATION_DATABASE_URL) the migrations run as that role instead. With
 * `directUrl` (TENURE_DIRECT_DATABASE_URL) `url` may be a transaction pooler: the migration lock is
 * then taken on a direct connection, and the pool sends no session parameters. With `readUrl`
 * (TENURE_READ_DATABASE_URL) a second pool to a streaming replica becomes `Store.reads`.
 */
export const openPostgresStore = async (url: string, options: PostgresOptions = {}): Promise<Store> => {
  const settings = options.connection ?? loadConnectionSettings();
  const ownerMigrates = Boolean(options.migrationUrl && options.migrationUrl !== url);
  if (ownerMigrates) await onOwnConnection(options.migrationUrl!, settings, (client) => migrateOn(client, true));
  const pooled = options.directUrl !== undefined;
  const pool = createPool(url, settings, { ...(options.max === undefined ? {} : { max: options.max }), pooled });
  let readPool: pg.Pool | undefined;
  try {
    if (pooled) {
      await onOwnConnection(options.directUrl!, settings, (client) => migrateOn(client, !ownerMigrates));
      await warnWithoutRoleTimeouts(pool);
    } else {
      // One connection of the pool holds the lock (a pool of one would otherwise wait for itself).
      const client = await pool.connect();
      try { await migrateOn(client, !ownerMigrates); } finally { client.release(); }
    }
    // After migrating: the replica is checked for this release's schema.
    if (options.readUrl) readPool = await openReadReplica(options.readUrl, pool, settings, { pooled, migrationsFolder, shownAs: redactUrl(options.readUrl) });
  } catch (error) {
    // A refused or failed start leaves no pool behind to keep the process alive.
    await pool.end().catch(() => undefined);
    throw error;
  }
  const db = drizzlePg(pool, { schema }) as unknown as Db;
  const reads = readPool && (drizzlePg(readPool, { schema }) as unknown as Db);
  return {
    db, ...(reads ? { reads } : {}), backend: 'postgres', location: redactUrl(url),
    close: async () => { await Promise.all([pool.end(), readPool?.end()]); },
  };
};
