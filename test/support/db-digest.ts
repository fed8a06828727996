import { sql } from 'drizzle-orm';
import { rawRows, type Store } from '../../src/store/database.js';

/**
 * Columns a read is allowed to move: a token's last use is recorded on every authenticated call,
 * refused or not. Everything else in every table is part of the digest.
 */
const VOLATILE: Record<string, string[]> = { api_tokens: ['last_used_at'] };

/** Written by every write, refused or not, on purpose: refused writes spend the rate budget (http/write-budget.ts). */
const COUNTERS = new Set(['write_rate_limits']);

const tablesOf = async (store: Store): Promise<string[]> =>
  (await rawRows<{ name: string }>(store.db, sql`
    SELECT table_name AS name FROM information_schema.tables
    WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' ORDER BY table_name`)).map((r) => r.name)
    .filter((name) => !COUNTERS.has(name));

/** Per table: the row count and an md5 of every row's text (volatile columns left out); one query. */
export const databaseDigest = async (store: Store): Promise<Record<string, string>> => {
  const tables = await tablesOf(store);
  const parts = tables.map((table) => {
    const row = (VOLATILE[table] ?? []).reduce((expr, column) => `(${expr}) - '${column}'`, 'to_jsonb(t)');
    return `SELECT '${table}' AS name, count(*)::text || ':' || coalesce(md5(string_agg((${row})::text, '|' ORDER BY (${row})::text)), '') AS digest FROM "${table}" t`;
  });
  const rows = await rawRows<{ name: string; digest: string }>(store.db, sql.raw(parts.join(' UNION ALL ')));
  return Object.fromEntries(rows.map((r) => [r.name, r.digest]));
};

/** The tables whose digest differs, for a message that says where the write went. */
export const changedTables = (before: Record<string, string>, after: Record<string, string>): string[] =>
  Object.keys({ ...before, ...after }).filter((name) => before[name] !== after[name]);
