import { ManualClock } from '../src/domain/clock.js';
import { runLifecycleTick } from '../src/jobs/lifecycle.js';
import type { Store } from '../src/store/database.js';
import { measure } from './report.js';
import type { World } from '../test/support/world.js';
import { seedDueGrants } from '../test/support/flows.js';

export const benchExpireGrants = async (store: Store, w: World, backend: string, n: number, runs: number) =>
  measure('expire due grants (+ audit events)', backend, n, runs, () => seedDueGrants(store.db, w, n), async () => {
    const result = await runLifecycleTick({ store, clock: w.clock as ManualClock, actor: { id: undefined, channel: 'worker' } });
    if (result.grantsExpired !== n) throw new Error(`expected ${n} expired, got ${result.grantsExpired}`);
  }, backend === 'postgres' ? '100,000 in < 5 s' : undefined);
