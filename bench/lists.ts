/**
 * The lists people page through, on an installation's worth of rows: 100,000 pending requests
 * (inbox.ts's backlog), 1,000,000 grants, 100,000 findings and 10,000,000 audit events on a server
 * (a tenth of the grants and findings, and 1,000,000 events, in PGlite). Everything is seeded in set
 * statements; the audit events are seeded with canonical text matching their columns (search checks
 * the one against the other) but no valid chain, which no list reads. Each list is asked for its
 * first page many times; the figure that counts is its p95, beside a SELECT 1 round trip.
 */
import { sql } from 'drizzle-orm';
import { listFindings } from '../src/operations/list-findings.js';
import { listGrants } from '../src/operations/list-grants.js';
import { listRequests } from '../src/operations/list-requests.js';
import { searchAudit } from '../src/operations/search-audit.js';
import type { Store } from '../src/store/database.js';
import type { World } from '../test/support/world.js';
import { seedBacklog, timeRuns } from './inbox.js';
import type { BenchResult } from './report.js';

export interface ListSizes { requests: number; grants: number; findings: number; events: number; asks: number }

/** Runs `fn` over 1..n in slices of `step`: each slice one statement, well inside the statement timeout. */
const inSlices = async (n: number, step: number, fn: (from: number, to: number) => Promise<unknown>) => {
  for (let from = 1; from <= n; from += step) await fn(from, Math.min(n, from + step - 1));
};

/** Grants spread over the backlog's people and every entitlement: most ended, a tenth live. */
const seedGrants = (store: Store, now: string, n: number) => inSlices(n, 100_000, (from, to) => store.db.execute(sql`
  WITH people AS (SELECT array_agg(id ORDER BY id) AS ids FROM identities WHERE handle LIKE 'ib%'),
       rights AS (SELECT array_agg(id ORDER BY id) AS ids FROM entitlements)
  INSERT INTO grants (id, identity_id, entitlement_id, origin, starts_at, ends_at, status, provisioning_state, created_at)
  SELECT gen_random_uuid(), p.ids[1 + s % cardinality(p.ids)], r.ids[1 + s % cardinality(r.ids)], 'birthright',
         ${now}::timestamptz - s * interval '1 minute', ${now}::timestamptz - s * interval '1 minute' + interval '30 days',
         CASE WHEN s % 10 = 0 THEN 'active' ELSE 'expired' END, 'provisioned', ${now}::timestamptz - s * interval '1 minute'
    FROM generate_series(${from}::int, ${to}::int) s, people p, rights r`));

const seedFindings = (store: Store, now: string, n: number) => inSlices(n, 100_000, (from, to) => store.db.execute(sql`
  WITH rights AS (SELECT array_agg(system_id ORDER BY id) AS ids FROM entitlements)
  INSERT INTO findings (id, kind, severity, key, status, system_id, summary, evidence, opened_at, last_seen_at)
  SELECT gen_random_uuid(), 'orphan_account', 'high', 'bench:' || s, CASE WHEN s % 4 = 0 THEN 'open' ELSE 'resolved' END,
         r.ids[1 + s % cardinality(r.ids)], 'account bench' || s || ' has no grant', '{}'::jsonb,
         ${now}::timestamptz - s * interval '1 minute', ${now}::timestamptz - s * interval '1 minute'
    FROM generate_series(${from}::int, ${to}::int) s, rights r`));

/**
 * Events numbered after the world's own, each about one of the backlog's people, a tenth of a second
 * apart and ending now; `request.created` for most, a rarer action (`grant.revoked`) for one in a thousand.
 */
const seedEvents = (store: Store, now: string, n: number) => inSlices(n, 250_000, (from, to) => store.db.execute(sql`
      WITH people AS (SELECT array_agg(id ORDER BY id) AS ids FROM identities WHERE handle LIKE 'ib%'),
           e AS (
        SELECT 1000000000 + s AS seq, ${now}::timestamptz - (${n}::int - s) * interval '100 milliseconds' AS at,
               CASE WHEN s % 1000 = 0 THEN 'grant.revoked' ELSE 'request.created' END AS action,
               p.ids[1 + s % cardinality(p.ids)] AS identity_id, gen_random_uuid()::text AS subject_id
          FROM generate_series(${from}::int, ${to}::int) s, people p)
      INSERT INTO audit_events (seq, occurred_at, action, actor_id, channel, subject_type, subject_id, identity_id, system_id, canonical, hash)
      SELECT e.seq, e.at, e.action, NULL, 'worker', 'request', e.subject_id, e.identity_id, NULL,
             jsonb_build_object('v', 1, 'at', to_char(e.at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'), 'action', e.action,
               'actor', jsonb_build_object('id', NULL, 'channel', 'worker'), 'subject', jsonb_build_object('type', 'request', 'id', e.subject_id),
               'identityId', e.identity_id, 'systemId', NULL, 'before', NULL, 'after', NULL, 'reason', NULL, 'ticket', NULL, 'data', NULL)::text,
             md5(e.seq::text)
        FROM e`));

/** A first page that must not come back empty: an empty list is fast for the wrong reason. */
const nonEmpty = (what: string, rows: readonly unknown[]) => { if (rows.length === 0) throw new Error(`${what}: the page came back empty`); };

export const benchLists = async (store: Store, w: World, backend: string, sizes: ListSizes): Promise<BenchResult[]> => {
  const now = w.clock.now().toISOString();
  await seedBacklog(store, w, sizes.requests);
  await seedGrants(store, now, sizes.grants);
  await seedFindings(store, now, sizes.findings);
  await seedEvents(store, now, sizes.events);
  await store.db.execute(sql`ANALYZE`);
  const [ivan, audrey] = [await w.as('ivan'), await w.as('audrey')];
  const someone = 'ib7';
  const hourAgo = new Date(w.clock.now().getTime() - 3_600_000).toISOString();
  const asks: [string, () => Promise<readonly unknown[]>][] = [
    ['grants, everyone\'s, first page', async () => listGrants(ivan, {})],
    ['grants of one person', async () => listGrants(ivan, { identity: someone })],
    ['grants, live only, first page', async () => listGrants(ivan, { status: 'live' })],
    ['requests, all, first page', async () => listRequests(ivan, { view: 'all' })],
    ['requests of one person', async () => listRequests(ivan, { view: 'all', beneficiary: someone })],
    ['findings, first page', async () => listFindings(ivan, {})],
    ['findings, open only', async () => listFindings(ivan, { status: 'open' })],
    ['audit search, newest first', async () => (await searchAudit(audrey, { newestFirst: true })).events],
    ['audit search, one person', async () => (await searchAudit(audrey, { identity: someone, newestFirst: true })).events],
    ['audit search, a rare action', async () => (await searchAudit(audrey, { action: 'grant.revoked', newestFirst: true })).events],
    ['audit search, the last hour', async () => (await searchAudit(audrey, { from: hourAgo })).events],
  ];
  const results: BenchResult[] = [];
  const row = (name: string, t: { p50: number; p95: number }, target?: string): BenchResult => ({
    name: `${name} (p50 ${t.p50.toFixed(1)} ms, p95 ${t.p95.toFixed(1)} ms)`, backend, n: sizes.asks, medianMs: t.p50, perSecond: 1000 / t.p50,
    ...(target ? { target } : {}),
  });
  for (const [name, list] of asks) {
    nonEmpty(name, await list());
    results.push(row(name, await timeRuns(sizes.asks, list), 'p95 ≤ 50 ms'));
  }
  results.push(row('floor: SELECT 1 round trip', await timeRuns(sizes.asks, () => store.db.execute(sql`SELECT 1`))));
  const label = `${sizes.requests.toLocaleString('en-US')} pending requests, ${sizes.grants.toLocaleString('en-US')} grants, `
    + `${sizes.findings.toLocaleString('en-US')} findings, ${sizes.events.toLocaleString('en-US')} audit events`;
  results[0]!.name = `${results[0]!.name}; ${label}`;
  return results;
};
