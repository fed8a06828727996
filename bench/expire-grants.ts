import { sql } from 'drizzle-orm';
import { ManualClock } from '../src/domain/clock.js';
import { runLifecycleTick } from '../src/jobs/lifecycle.js';
import type { Store } from '../src/store/database.js';
import { measure } from './report.js';
import type { World } from '../test/support/world.js';

/** Seeds `n` active grants already past their end (one INSERT … SELECT), outside the timing. */
const seedDueGrants = async (store: Store, w: World, n: number): Promise<void> => {
  const carl = await w.id('carl');
  const now = w.clock.now().toISOString();
  await store.db.execute(sql`
    INSERT INTO grants (id, identity_id, entitlement_id, origin, starts_at, ends_at, status, provisioning_state, created_at)
    SELECT gen_random_uuid(), ${carl}, e.id, 'request', ${now}::timestamptz - interval '2 hours',
           ${now}::timestamptz - interval '1 minute', 'active', 'provisioned', ${now}
    FROM generate_series(1, ${n}) s, (SELECT id FROM entitlements WHERE key = 'payments/read') e`);
};

export const benchExpireGrants = async (store: Store, w: World, backend: string, n: number, runs: number) =>
  measure('expire due grants (+ audit events)', backend, n, runs, () => seedDueGrants(store, w, n), async () => {
    const result = await runLifecycleTick({ store, clock: w.clock as ManualClock, actor: { id: undefined, channel: 'worker' } });
    if (result.grantsExpired !== n) throw new Error(`expected ${n} expired, got ${result.grantsExpired}`);
  }, backend === 'postgres' ? '100,000 in < 5 s' : undefined);
