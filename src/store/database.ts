import { fileURLToPath } from 'node:url';
import { PGlite } from '@electric-sql/pglite';
import { sql } from 'drizzle-orm';
import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core';
import { drizzle as drizzlePglite } from 'drizzle-orm/pglite';
import { migrate as migratePglite } from 'drizzle-orm/pglite/migrator';
import { drizzle as drizzlePg } from 'drizzle-orm/node-postgres';
import { migrate as migratePg } from 'drizzle-orm/node-postgres/migrator';
import pg from 'pg';
import { acquireDataDirLock, type DataDirLock } from './data-dir-lock.js';
import { loadConnectionSettings, type ConnectionSettings } from './connection-settings.js';
import { createPool } from './pool.js';
import { refuseNewerSchema } from './schema-version.js';
import { coreTables } from './schema.js';
import { breakGlassTables } from './schema-break-glass.js';
import { credentialsTables } from './schema-credentials.js';
import { hrTables } from './schema-hr.js';
import { reviewsTables } from './schema-reviews.js';
import { provisioningTables } from './schema-provisioning.js';
import { serviceTables } from './schema-service.js';
import { sshTables } from './schema-ssh.js';
import { webTables } from './schema-web.js';

const schema = { ...coreTables, ...serviceTables, ...provisioningTables, ...sshTables, ...breakGlassTables, ...credentialsTables, ...hrTables, ...reviewsTables, ...webTables };

export type Db = PgDatabase<PgQueryResultHKT, typeof schema>;
export type Tx = Parameters<Parameters<Db['transaction']>[0]>[0];
/** Anything queries can run on: the database itself or an open transaction. */
export type Executor = Db | Tx;

export interface Store {
  db: Db;
  backend: 'embedded' | 'postgres';
  /** Where the data lives, for messages: a directory, or the server URL without its password. */
  location: string;
  close(): Promise<void>;
  /** Embedded only: a snapshot of the data directory, used to clone migrated databases in tests. */
  dump?: () => Promise<Blob>;
}

const migrationsFolder = fileURLToPath(new URL('./migrations', import.meta.url));
/** Any constant works; it only has to be the same in every Tenure process sharing a server. */
const MIGRATION_LOCK_KEY = 7_301_442_118;

export const redactUrl = (url: string): string => url.replace(/\/\/([^:/@]+):[^@]*@/, '//$1:***@');

/** Opens PGlite in `dataDir` (or in memory when dataDir is undefined) and migrates it. */
export const openEmbedded = async (
  dataDir: string | undefined,
  options: { lock?: boolean; template?: Blob } = {},
): Promise<Store> => {
  let lock: DataDirLock | undefined;
  if (dataDir !== undefined && options.lock !== false) lock = acquireDataDirLock(dataDir);
  let client: PGlite | undefined;
  try {
    client = new PGlite({ ...(dataDir === undefined ? {} : { dataDir }), ...(options.template ? { loadDataDir: options.template } : {}) });
    const opened = client;
    await refuseNewerSchema((text) => opened.query(text), migrationsFolder);
    await migratePglite(drizzlePglite(opened), { migrationsFolder });
    return {
      db: drizzlePglite(opened, { schema }) as unknown as Db, backend: 'embedded', location: dataDir ?? 'memory',
      close: async () => { try { await opened.close(); } finally { lock?.release(); } },
      dump: () => opened.dumpDataDir('none'),
    };
  } catch (error) {
    // Closed before the lock goes: another process must not open files this one still writes.
    await client?.close().catch(() => undefined);
    lock?.release();
    throw error;
  }
};

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
    await refuseNewerSchema((text) => client.query(text), migrationsFolder);
    await migratePg(drizzlePg(client), { migrationsFolder });
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
    await refuseNewerSchema((text) => lockClient.query(text), migrationsFolder);
    if (!migrated) await migratePg(drizzlePg(lockClient), { migrationsFolder });
  } finally {
    await lockClient.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY]).catch(() => undefined);
    lockClient.release();
  }
};

/**
 * Opens a pool to a PostgreSQL server and migrates it; concurrent starters wait for one migrator.
 * With `migrationUrl` (TENURE_MIGRATION_DATABASE_URL) the migrations run as that role instead.
 */
export const openPostgres = async (
  url: string, options: { max?: number; migrationUrl?: string | undefined; connection?: ConnectionSettings } = {},
): Promise<Store> => {
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

export interface StoreConfig {
  databaseUrl?: string | undefined;
  migrationDatabaseUrl?: string | undefined;
  dataDir: string;
  connection?: ConnectionSettings | undefined;
}

export const openStore = (config: StoreConfig): Promise<Store> =>
  config.databaseUrl
    ? openPostgres(config.databaseUrl, { migrationUrl: config.migrationDatabaseUrl, ...(config.connection ? { connection: config.connection } : {}) })
    : openEmbedded(config.dataDir);

/** Rows of a raw query, the same shape on both drivers. */
export const rawRows = async <T>(exec: Executor, query: ReturnType<typeof sql>): Promise<T[]> => {
  const result = (await exec.execute(query)) as unknown as { rows: T[] };
  return result.rows;
};
