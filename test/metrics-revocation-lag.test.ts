import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { runLifecycleTick } from '../src/jobs/lifecycle.js';
import { runProvisioningPass } from '../src/jobs/provisioning/index.js';
import { processRegistry } from '../src/metrics/process.js';
import type { Store } from '../src/store/database.js';
import { freshStore } from './support/backends.js';
import { grantThrough } from './support/flows.js';
import { buildProvisioningWorld, startPgTarget, type PgTarget } from './support/provisioning-world.js';
import { HOUR, type World } from './support/world.js';

/** One sample of this process's registry; counters are process-wide, so the test compares before and after. */
const value = async (name: string, labels: Record<string, string>): Promise<number> => {
  // A histogram's _count and _sum are values of the histogram, named by metricName.
  const values = (await processRegistry.getMetricsAsJSON())
    .flatMap((m) => m.values.map((v) => ({ ...v, name: (v as { metricName?: string }).metricName ?? m.name })));
  const found = values.find((v) => v.name === name && Object.entries(labels).every(([k, l]) => v.labels[k] === l)
    && Object.keys(v.labels).length === Object.keys(labels).length);
  return found?.value ?? 0;
};

describe('revocation lag, observed by the worker that confirms a removal', () => {
  let target: PgTarget;
  let store: Store;
  let w: World;
  before(async () => {
    target = await startPgTarget();
    store = await freshStore('embedded');
    w = await buildProvisioningWorld(store, target);
  });
  after(async () => { await store?.close(); await target?.stop(); });

  it('records the time from the grant\'s end to the read-back that showed the access gone, under the grant\'s system', async () => {
    await grantThrough(w, 'carl', { entitlement: 'payments/approve', justification: 'quarter close', duration: '2h' }, ['sam', 'olivia']);
    await runProvisioningPass(w.worker);
    const lag = { count: await value('tenure_revocation_lag_seconds_count', { system: 'payments' }), sum: await value('tenure_revocation_lag_seconds_sum', { system: 'payments' }) };
    const done = await value('tenure_provisioning_attempts_total', { action: 'deprovision', outcome: 'done' });
    // The grant ends two hours in; the lifecycle ends it an hour late and the removal is confirmed 90 s after that.
    w.clock.advance(3 * HOUR);
    await runLifecycleTick(w.worker);
    w.clock.advance(90_000);
    await runProvisioningPass(w.worker);
    assert.equal(await value('tenure_revocation_lag_seconds_count', { system: 'payments' }), lag.count + 1);
    assert.equal(await value('tenure_revocation_lag_seconds_sum', { system: 'payments' }) - lag.sum, HOUR / 1000 + 90);
    assert.equal(await value('tenure_provisioning_attempts_total', { action: 'deprovision', outcome: 'done' }), done + 1);
  });
});
