/**
 * The approver inbox on a large backlog: `n` pending requests (two stages each) from n/10 people,
 * seeded in a few statements. Sam's sponsor stage waits on one in a hundred, Olivia's and Tom's
 * system-owner stage on the tenth whose sponsor stage is decided, Ivan on none. Each inbox is asked
 * for many times (GET /v1/requests?view=inbox, default limit); the figure that counts is its p95.
 */
import { sql } from 'drizzle-orm';
import { listRequests } from '../src/operations/list-requests.js';
import type { Store } from '../src/store/database.js';
import type { World } from '../test/support/world.js';
import { median, type BenchResult } from './report.js';

export const seedBacklog = async (store: Store, w: World, n: number): Promise<void> => {
  const [sam, olivia, tom, ivan] = await Promise.all(['sam', 'olivia', 'tom', 'ivan'].map((h) => w.id(h)));
  const now = w.clock.now().toISOString();
  await store.db.execute(sql`
    INSERT INTO identities (id, handle, display_name, kind, status, created_at, updated_at)
    SELECT gen_random_uuid(), 'ib' || i, 'Bench ' || i, 'employee', 'active', now(), now() FROM generate_series(1, ${Math.max(1, n / 10)}) i`);
  await store.db.execute(sql`
    WITH people AS (SELECT array_agg(id ORDER BY id) AS ids FROM identities WHERE handle LIKE 'ib%'),
         asked AS (
      INSERT INTO access_requests (id, kind, requester_id, beneficiary_id, entitlement_id, justification, starts_at, ends_at,
                                   out_of_scope, status, expires_at, created_at)
      SELECT gen_random_uuid(), 'new', p.ids[1 + s % cardinality(p.ids)], p.ids[1 + s % cardinality(p.ids)], e.id, 'bench ' || s, ${now}::timestamptz, ${now}::timestamptz + interval '1 day',
             false, 'pending', ${now}::timestamptz + interval '7 days', ${now}::timestamptz - s * interval '1 second'
        FROM generate_series(1, ${n}) s, people p
        CROSS JOIN (SELECT id FROM entitlements WHERE key = 'payments/read') e
      RETURNING id, justification)
    INSERT INTO request_stages (request_id, position, kind, approver_ids, uses_alternates, status, decided_by)
    SELECT a.id, st.position, st.kind,
           CASE WHEN st.position = 1 THEN jsonb_build_array(${olivia}::text, ${tom}::text)
                WHEN x.s % 100 = 1 THEN jsonb_build_array(${sam}::text) ELSE jsonb_build_array(a.id::text) END,
           false,
           CASE WHEN st.position = 0 AND x.s % 10 = 0 THEN 'approved' ELSE 'pending' END,
           CASE WHEN st.position = 0 AND x.s % 10 = 0 THEN ${ivan}::uuid END
      FROM asked a
      CROSS JOIN LATERAL (SELECT substring(a.justification FROM 7)::int AS s) x
      CROSS JOIN (VALUES (0, 'sponsor'), (1, 'system_owner')) st(position, kind)`);
  await store.db.execute(sql`ANALYZE`);
};

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))]!;
const fmt = (ms: number) => ms.toFixed(1);

/** Percentiles of `asks` timed runs of `fn`. */
export const timeRuns = async (asks: number, fn: () => Promise<unknown>) => {
  const times: number[] = [];
  for (let i = 0; i < asks; i += 1) {
    const start = performance.now();
    await fn();
    times.push(performance.now() - start);
  }
  times.sort((a, b) => a - b);
  return { p50: median(times), p95: percentile(times, 0.95) };
};

/**
 * Each inbox, then the floor measured in the same run: a `SELECT 1` round trip on the same store.
 * The machine is shared, so a figure only means something beside the floor it was measured with.
 */
export const benchInbox = async (store: Store, w: World, backend: string, n: number, asks: number): Promise<BenchResult[]> => {
  await seedBacklog(store, w, n);
  const results: BenchResult[] = [];
  const row = (name: string, t: { p50: number; p95: number }, target?: string): BenchResult =>
    ({ name: `${name} (p50 ${fmt(t.p50)} ms, p95 ${fmt(t.p95)} ms)`, backend, n, medianMs: t.p50, perSecond: 1000 / t.p50, ...(target ? { target } : {}) });
  for (const [handle, waiting] of [['sam', Math.floor(n / 100)], ['olivia', Math.floor(n / 10)], ['ivan', 0]] as const) {
    const ctx = await w.as(handle);
    const t = await timeRuns(asks, async () => {
      const inbox = await listRequests(ctx, { view: 'inbox' });
      if (inbox.length !== Math.min(100, waiting)) throw new Error(`${handle}: expected ${Math.min(100, waiting)} in the inbox, saw ${inbox.length}`);
    });
    results.push(row(`inbox, ${waiting.toLocaleString('en-US')} waiting on ${handle}`, t, 'p95 ≤ 50 ms'));
  }
  results.push(row('floor: SELECT 1 round trip', await timeRuns(asks, async () => { await store.db.execute(sql`SELECT 1`); })));
  return results;
};
