import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, describe, it } from 'node:test';
import { sql } from 'drizzle-orm';
import { openEmbedded, openPostgres, rawRows, type Store } from '../src/store/database.js';
import { newestKnownMigration } from '../src/store/schema-version.js';
import { refusedWith } from './support/assert.js';
import { createScratchDatabase } from './support/postgres-server.js';
import { TENURE_BIN } from './support/tenure-process.js';

const MIGRATIONS = fileURLToPath(new URL('../src/store/migrations', import.meta.url));

/** What a newer release leaves behind: one more row in drizzle's journal, dated after this release's last. */
const migrateAsNewerRelease = async (store: Store): Promise<void> => {
  const later = newestKnownMigration(MIGRATIONS).when + 86_400_000;
  await store.db.execute(sql`INSERT INTO drizzle.__drizzle_migrations (hash, created_at) VALUES ('from-a-newer-release', ${later})`);
};

const migrationCount = async (store: Store): Promise<number> =>
  Number((await rawRows<{ n: string }>(store.db, sql`SELECT count(*)::text AS n FROM drizzle.__drizzle_migrations`))[0]!.n);

describe('an older release meets a database a newer one migrated', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'tenure-schema-newer-'));
  after(() => rmSync(dataDir, { recursive: true, force: true }));

  it('the embedded database is refused by name, its lock is let go, and the refusal changes nothing', async () => {
    const store = await openEmbedded(dataDir);
    const before = await migrationCount(store);
    await migrateAsNewerRelease(store);
    await store.close();

    const refusal = await refusedWith(openEmbedded(dataDir), 'store.schema_newer');
    assert.match(refusal.message, /newer than this release's last \(\d{4}_\w+/);
    // Refused again, not "held by another process": the first refusal closed the database and let go of its lock.
    await refusedWith(openEmbedded(dataDir), 'store.schema_newer');

    const env = { ...process.env, TENURE_DATA_DIR: dataDir, DATABASE_URL: '', TENURE_SERVER: '', TENURE_ACTOR: '' };
    const cli = spawnSync(process.execPath, [TENURE_BIN, '--as', 'anyone', 'grant', 'list'], { env, encoding: 'utf8', timeout: 120_000 });
    assert.equal(cli.status, 1, cli.stderr);
    assert.match(cli.stderr, /store\.schema_newer/);

    // A bare PGlite, not openEmbedded, which would refuse to open it.
    const { PGlite } = await import('@electric-sql/pglite');
    const raw = new PGlite({ dataDir });
    const rows = await raw.query<{ n: string }>('SELECT count(*)::text AS n FROM drizzle.__drizzle_migrations');
    await raw.close();
    assert.equal(Number(rows.rows[0]!.n), before + 1, 'the refused starts applied nothing');
  });

  it('the PostgreSQL server database is refused by name before any migration runs', async () => {
    const scratch = await createScratchDatabase();
    try {
      const store = await openPostgres(scratch.url);
      const before = await migrationCount(store);
      await migrateAsNewerRelease(store);
      await store.close();

      await refusedWith(openPostgres(scratch.url), 'store.schema_newer');
      const probe = await openPostgresUnchecked(scratch.url);
      try {
        assert.equal(await probe.count(), before + 1, 'the refused start applied nothing');
      } finally {
        await probe.close();
      }
    } finally {
      await scratch.drop();
    }
  });
});

/** A plain connection, for looking at the database Tenure refused to open. */
const openPostgresUnchecked = async (url: string) => {
  const { default: pg } = await import('pg');
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  return {
    count: async () => Number((await client.query<{ n: string }>('SELECT count(*)::text AS n FROM drizzle.__drizzle_migrations')).rows[0]!.n),
    close: () => client.end(),
  };
};
