/**
 * What the console's dashboards cost on a long history: the revocation-lag figures over 30 days and
 * the Systems page, with `n` ended grants whose removals the targets confirmed (one in a hundred still
 * open), seeded in one statement.
 */
import { sql } from 'drizzle-orm';
import { listSystems } from '../src/operations/list-systems.js';
import { measureRevocationLag } from '../src/operations/measure-revocation-lag.js';
import type { Store } from '../src/store/database.js';
import type { World } from '../test/support/world.js';
import { measure, type BenchResult } from './report.js';

const seedRemovals = async (store: Store, w: World, n: number): Promise<void> => {
  const carl = await w.id('carl');
  const now = w.clock.now().toISOString();
  // Ends spread over the last 29 days; removals confirmed up to ten minutes later, every hundredth still open.
  await store.db.execute(sql`
    WITH g AS (
      INSERT INTO grants (id, identity_id, entitlement_id, origin, starts_at, ends_at, status, provisioning_state, ended_at, end_reason, created_at)
      SELECT gen_random_uuid(), ${carl}, e.id, 'birthright', ${now}::timestamptz - interval '40 days',
             ${now}::timestamptz - (s % 29) * interval '1 day' - interval '1 hour', 'expired', 'deprovisioned',
             ${now}::timestamptz - (s % 29) * interval '1 day' - interval '1 hour', 'expired', ${now}::timestamptz - interval '40 days'
      FROM generate_series(1, ${n}) s, (SELECT id FROM entitlements WHERE key = 'payments/read') e
      RETURNING id, identity_id, ended_at
    )
    INSERT INTO provisioning_jobs (grant_id, identity_id, system_id, action, state, attempts, next_attempt_at, created_at, finished_at)
    SELECT g.id, g.identity_id, (SELECT id FROM systems WHERE key = 'payments'), 'deprovision',
           CASE WHEN random() < 0.01 THEN 'queued' ELSE 'done' END, 1, g.ended_at, g.ended_at,
           g.ended_at + random() * interval '10 minutes'
    FROM g`);
  await store.db.execute(sql`UPDATE provisioning_jobs SET finished_at = NULL WHERE state = 'queued'`);
  await store.db.execute(sql`ANALYZE`);
};

export const benchConsole = async (store: Store, w: World, backend: string, n: number, runs: number): Promise<BenchResult[]> => {
  await seedRemovals(store, w, n);
  const audrey = await w.as('audrey');
  const none = async () => undefined;
  return [
    await measure('revocation lag, 30 days (GET /v1/stats/revocation-lag)', backend, n, runs, none, async () => {
      const lag = await measureRevocationLag(audrey, { days: 30 });
      if (lag.removed + lag.open !== n) throw new Error(`expected ${n} removals, saw ${lag.removed + lag.open}`);
    }, '< 1 s'),
    await measure('systems page (GET /v1/systems)', backend, n, runs, none, async () => {
      const { items } = await listSystems(audrey);
      if (!items.some((s) => s.key === 'payments' && s.operations)) throw new Error('payments missing');
    }, '< 200 ms'),
  ];
};
