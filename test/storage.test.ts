import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { sql } from 'drizzle-orm';
import { getTableConfig, PgDialect } from 'drizzle-orm/pg-core';
import { openEmbedded, openPostgres, rawRows } from '../src/store/database.js';
import { coreTables } from '../src/store/schema.js';
import { breakGlassTables } from '../src/store/schema-break-glass.js';
import { credentialsTables } from '../src/store/schema-credentials.js';
import { hrTables } from '../src/store/schema-hr.js';
import { provisioningTables } from '../src/store/schema-provisioning.js';
import { reviewsTables } from '../src/store/schema-reviews.js';
import { serviceTables } from '../src/store/schema-service.js';
import { sshTables } from '../src/store/schema-ssh.js';
import { webTables } from '../src/store/schema-web.js';
import { BACKENDS, freshStore } from './support/backends.js';
import { createScratchDatabase } from './support/postgres-server.js';

const tables = async (exec: Parameters<typeof rawRows>[0]) =>
  (await rawRows<{ n: number }>(exec, sql`SELECT count(*)::int AS n FROM information_schema.tables WHERE table_schema = 'public'`))[0]?.n;

/** A CHECK's quoted values, sorted: the same whether written by the schema or rendered by PostgreSQL (`'a'::text`). */
const literals = (text: string): string[] => [...text.matchAll(/'((?:[^']|'')*)'/g)].map((m) => m[1]!).sort();

const schemaChecks = (): Map<string, string[]> => {
  const dialect = new PgDialect();
  const tables = Object.values({
    ...coreTables, ...serviceTables, ...provisioningTables, ...sshTables, ...breakGlassTables, ...credentialsTables, ...hrTables, ...reviewsTables, ...webTables,
  });
  return new Map(tables.flatMap((table) => getTableConfig(table).checks.map((c) => [c.name, literals(dialect.sqlToQuery(c.value).sql)] as const)));
};

describe('one schema and one set of migrations on both backends', () => {
  for (const backend of BACKENDS) {
    // The CHECKs are built from the domain's lists (store/checks.ts), the migrations were written once: they must agree.
    it(`${backend}: a database migrated from scratch has exactly the schema's CHECKs, allowing the same values`, async () => {
      const store = await freshStore(backend);
      try {
        const rows = await rawRows<{ name: string; def: string }>(store.db, sql`SELECT conname AS name, pg_get_constraintdef(oid) AS def
          FROM pg_constraint WHERE contype = 'c' AND connamespace = 'public'::regnamespace`);
        assert.deepEqual(new Map(rows.map((r) => [r.name, literals(r.def)])), schemaChecks());
      } finally {
        await store.close();
      }
    });
  }

  it('the embedded database is created on first run, and migrating it again at the next start changes nothing', async () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'tenure-store-')), 'data');
    const first = await openEmbedded(dir);
    const created = await tables(first.db);
    await first.db.execute(sql`INSERT INTO policy_state (id, document, digest, applied_at) VALUES (1, '{}', 'd', now())`);
    await first.close();
    const second = await openEmbedded(dir);
    assert.equal(await tables(second.db), created);
    assert.equal((await rawRows<{ n: number }>(second.db, sql`SELECT count(*)::int AS n FROM policy_state`))[0]?.n, 1, 'data survives a restart');
    await second.close();
  });

  it('several processes starting at once on one server migrate it exactly once', { skip: process.env.TENURE_TEST_BACKENDS === 'embedded' }, async () => {
    const scratch = await createScratchDatabase();
    try {
      const stores = await Promise.all([1, 2, 3].map(() => openPostgres(scratch.url, { max: 2 })));
      const [applied] = await rawRows<{ n: number }>(stores[0]!.db, sql`SELECT count(*)::int AS n FROM drizzle.__drizzle_migrations`);
      const journal = JSON.parse(readFileSync(new URL('../src/store/migrations/meta/_journal.json', import.meta.url), 'utf8')) as { entries: unknown[] };
      assert.equal(applied?.n, journal.entries.length);
      assert.ok(((await tables(stores[0]!.db)) ?? 0) >= 14);
      for (const store of stores) await store.close();
    } finally {
      await scratch.drop();
    }
  });

  it('the audit table refuses UPDATE, DELETE and TRUNCATE on the server too', { skip: process.env.TENURE_TEST_BACKENDS === 'embedded' }, async () => {
    const scratch = await createScratchDatabase();
    const store = await openPostgres(scratch.url, { max: 1 });
    try {
      await store.db.execute(sql`INSERT INTO audit_events (seq, occurred_at, action, channel, subject_type, subject_id, canonical, hash)
        VALUES (1, now(), 'setup.initialised', 'system', 'x', 'x', '{}', 'h')`);
      for (const statement of [sql`UPDATE audit_events SET action = 'x'`, sql`DELETE FROM audit_events`, sql`TRUNCATE audit_events`]) {
        await assert.rejects(store.db.execute(statement), (e: Error & { cause?: Error }) => /append-only/.test(e.cause?.message ?? e.message));
      }
    } finally {
      await store.close();
      await scratch.drop();
    }
  });
});
