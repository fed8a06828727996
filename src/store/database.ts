import { fileURLToPath } from 'node:url';
import { PGlite } from '@electric-sql/pglite';
import { sql } from 'drizzle-orm';
import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core';
import { drizzle as drizzlePglite } from 'drizzle-orm/pglite';
import { migrate as migratePglite } from 'drizzle-orm/pglite/migrator';
import { acquireDataDirLock, type DataDirLock } from './data-dir-lock.js';
import type { ConnectionSettings } from './connection-settings.js';
import { checkSchemaVersion } from './schema-version.js';
import { coreTables } from './schema.js';
import { breakGlassTables } from './schema-break-glass.js';
import { credentialsTables } from './schema-credentials.js';
import { hrTables } from './schema-hr.js';
import { reviewsTables } from './schema-reviews.js';
import { provisioningTables } from './schema-provisioning.js';
import { serviceTables } from './schema-service.js';
import { sshTables } from './schema-ssh.js';
import { webTables } from './schema-web.js';
import { proxyTables } from './schema-proxy.js';

export const schema = { ...coreTables, ...serviceTables, ...provisioningTables, ...sshTables, ...breakGlassTables, ...credentialsTables, ...hrTables, ...reviewsTables, ...webTables, ...proxyTables };

export type Db = PgDatabase<PgQueryResultHKT, typeof schema>;
export type Tx = Parameters<Parameters<Db['transaction']>[0]>[0];
/** Anything queries can run on: the database itself or an open transaction. */
export type Executor = Db | Tx;

export interface Store {
  db: Db;
  /**
   * A streaming replica (TENURE_READ_DATABASE_URL), for reads that may lag: only through
   * `readsThatMayLag`, never for a decision that writes, a unit of work or authorisation.
   */
  reads?: Db;
  backend: 'embedded' | 'postgres';
  /** Where the data lives, for messages: a directory, or the server URL without its password. */
  location: string;
  close(): Promise<void>;
  /** Embedded only: a snapshot of the data directory, used to clone migrated databases in tests. */
  dump?: () => Promise<Blob>;
}

export const migrationsFolder = fileURLToPath(new URL('./migrations', import.meta.url));

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
    // At this release's last migration already (every start but the first after an upgrade):
    // drizzle would apply nothing, after reading and hashing every migration file to find that out.
    const version = await checkSchemaVersion((text) => opened.query(text), migrationsFolder);
    if (version === 'behind') await migratePglite(drizzlePglite(opened), { migrationsFolder });
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
 * `directUrl`: the same database without a pooler, for the migration lock; set, `url` may be a
 * transaction pooler. `readUrl`: a streaming replica of it, for `Store.reads`.
 */
export type PostgresOptions = {
  max?: number; migrationUrl?: string | undefined; directUrl?: string | undefined; readUrl?: string | undefined; connection?: ConnectionSettings;
};

/**
 * Opens a pool to a PostgreSQL server and migrates it (store/postgres-store.ts). The driver is
 * imported here, on first use, so a command on the embedded database never loads it.
 */
export const openPostgres = async (url: string, options: PostgresOptions = {}): Promise<Store> =>
  (await import('./postgres-store.js')).openPostgresStore(url, options);

export interface StoreConfig {
  databaseUrl?: string | undefined;
  migrationDatabaseUrl?: string | undefined;
  directDatabaseUrl?: string | undefined;
  readDatabaseUrl?: string | undefined;
  dataDir: string;
  connection?: ConnectionSettings | undefined;
}

export const openStore = (config: StoreConfig): Promise<Store> =>
  config.databaseUrl
    ? openPostgres(config.databaseUrl, {
      migrationUrl: config.migrationDatabaseUrl, directUrl: config.directDatabaseUrl, readUrl: config.readDatabaseUrl, ...(config.connection ? { connection: config.connection } : {}) })
    : openEmbedded(config.dataDir);

/**
 * Where a heavy read that may lag runs: the replica when one is configured, else the primary. The
 * rule of what may lag (docs/high-availability.md): reports, audit search and export, evidence
 * packs, the decision index's first load; never a unit of work, authorisation or a decision that writes.
 */
export const readsThatMayLag = (store: Store): Db => store.reads ?? store.db;

/** Rows of a raw query, the same shape on both drivers. */
export const rawRows = async <T>(exec: Executor, query: ReturnType<typeof sql>): Promise<T[]> => {
  const result = (await exec.execute(query)) as unknown as { rows: T[] };
  return result.rows;
};
