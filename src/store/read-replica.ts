/**
 * The read replica (TENURE_READ_DATABASE_URL): a pool to a streaming standby of the primary, for the
 * heavy reads that may lag. Checked at start, so a wrong URL stops the start naming the variable
 * rather than answering reports from some other database.
 */
import type pg from 'pg';
import type { ConnectionSettings } from './connection-settings.js';
import { createPool } from './pool.js';
import { checkSchemaVersion } from './schema-version.js';

const VARIABLE = 'TENURE_READ_DATABASE_URL';

/** How long a start waits for the replica to replay the migrations the primary has just applied. */
const SCHEMA_WAIT_MS = 10_000;

interface Identity { system: string; database: string }

/**
 * The cluster (its system identifier, which a physical standby shares with its primary) and the
 * database: a URL naming another cluster or another database on the replica must be refused, since
 * it would answer every report, plausibly and wrongly.
 */
const identityOf = async (pool: pg.Pool): Promise<Identity> => {
  const { rows } = await pool.query<Identity>(
    'SELECT (SELECT system_identifier FROM pg_control_system())::text AS system, current_database() AS database');
  return rows[0]!;
};

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Waits (briefly) for the replica to have this release's schema: just after an upgrade it may still be replaying the migration. */
const awaitSchema = async (replica: pg.Pool, migrationsFolder: string): Promise<void> => {
  const deadline = Date.now() + SCHEMA_WAIT_MS;
  while ((await checkSchemaVersion((text) => replica.query(text), migrationsFolder)) === 'behind') {
    if (Date.now() > deadline) throw new Error(`the replica has not replayed this release's migrations within ${SCHEMA_WAIT_MS / 1000} s: is it replaying at all?`);
    await sleep(200);
  }
};

/**
 * Opens and checks the replica's pool: reachable, a copy of `primary`'s cluster and database, at
 * this release's schema. Any failure is reported as the variable's, and leaves no pool behind.
 */
export const openReadReplica = async (
  url: string, primary: pg.Pool, settings: ConnectionSettings, options: { pooled: boolean; migrationsFolder: string; shownAs: string },
): Promise<pg.Pool> => {
  const replica = createPool(url, { ...settings, applicationName: `${settings.applicationName}-read` }, { pooled: options.pooled });
  try {
    const [theirs, ours] = await Promise.all([identityOf(replica), identityOf(primary)]);
    if (theirs.system !== ours.system || theirs.database !== ours.database) {
      throw new Error(`it is database '${theirs.database}' of cluster ${theirs.system}, not a replica of DATABASE_URL's`
        + ` (database '${ours.database}' of cluster ${ours.system}): point it at a streaming standby of the primary`);
    }
    await awaitSchema(replica, options.migrationsFolder);
    return replica;
  } catch (error) {
    await replica.end().catch(() => undefined);
    throw new Error(`${VARIABLE} (${options.shownAs}): ${(error as Error).message}`, { cause: error });
  }
};
