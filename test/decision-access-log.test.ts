import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { sql } from 'drizzle-orm';
import { AccessLog, parseAccessLogMode, type AccessEventInput } from '../src/decision/access-log.js';
import { DecisionService } from '../src/decision/service.js';
import { rawRows } from '../src/store/database.js';
import { BACKENDS, freshStore } from './support/backends.js';
import { grantThrough } from './support/flows.js';
import { buildWorld } from './support/world.js';

const event = (reason: string): AccessEventInput => ({
  at: new Date('2030-01-01T09:00:00Z'), identityId: null, entitlementKey: 'payments/read', systemKey: null, action: null,
  allowed: false, reason, grantId: null, context: undefined,
});

describe('access log settings', () => {
  it('TENURE_ACCESS_LOG reads none, all or sample:R, and names itself when wrong', () => {
    assert.deepEqual(parseAccessLogMode(undefined), { kind: 'none' });
    assert.deepEqual(parseAccessLogMode('all'), { kind: 'all' });
    assert.deepEqual(parseAccessLogMode('sample:0.1'), { kind: 'sample', rate: 0.1 });
    assert.deepEqual(parseAccessLogMode('sample:1'), { kind: 'all' });
    for (const bad of ['some', 'sample:0', 'sample:1.5', 'sample:x']) assert.throws(() => parseAccessLogMode(bad), /TENURE_ACCESS_LOG/);
  });
});

for (const backend of BACKENDS) {
  describe(`access events (${backend})`, () => {
    it('with the log on, every answer is written in the background with who, what, why and the context', async () => {
      const w = await buildWorld(await freshStore(backend));
      try {
        const grant = await grantThrough(w, 'carl', { entitlement: 'payments/read', justification: 'r', duration: '1d' }, ['sam', 'olivia']);
        const decisions = await DecisionService.start({ store: w.store, clock: w.clock, poll: false, accessLog: { kind: 'all' } });
        decisions.check({ identity: 'carl', entitlement: 'payments/read', context: { mfa: true, sourceAddress: '10.0.0.1' } });
        decisions.check({ identity: 'carl', system: 'payments', action: 'drop' });
        decisions.check({ identity: 'nobody', entitlement: 'payments/read' });
        await decisions.stop();
        const rows = await rawRows<{ identity_id: string | null; entitlement_key: string | null; system_key: string | null; action: string | null;
          allowed: boolean; reason: string; grant_id: string | null; context: unknown }>(w.store.db,
          sql`SELECT identity_id, entitlement_key, system_key, action, allowed, reason, grant_id, context FROM access_events ORDER BY allowed DESC, reason`);
        const carl = await w.id('carl');
        assert.deepEqual(rows, [
          { identity_id: carl, entitlement_key: 'payments/read', system_key: 'payments', action: null, allowed: true, reason: 'grant_active',
            grant_id: grant, context: { mfa: true, sourceAddress: '10.0.0.1' } },
          { identity_id: carl, entitlement_key: null, system_key: 'payments', action: 'drop', allowed: false, reason: 'unknown_entitlement',
            grant_id: null, context: null },
          { identity_id: null, entitlement_key: 'payments/read', system_key: 'payments', action: null, allowed: false, reason: 'unknown_identity',
            grant_id: null, context: null },
        ]);
      } finally {
        await w.store.close();
      }
    });

    it('a sample keeps the share of answers it names', async () => {
      const store = await freshStore(backend);
      try {
        let n = 0;
        const log = new AccessLog(store.db, { kind: 'sample', rate: 0.25 }, { random: () => (n++ % 4) / 4 });
        for (let i = 0; i < 100; i += 1) log.record(event('no_grant'));
        await log.stop();
        assert.deepEqual(log.counts(), { recorded: 25, written: 25, dropped: 0, failedBatches: 0 });
      } finally {
        await store.close();
      }
    });

    it('a failed write drops its batch and reports it, and answers go on', async () => {
      const w = await buildWorld(await freshStore(backend));
      const errors: Error[] = [];
      const decisions = await DecisionService.start({ store: w.store, clock: w.clock, poll: false, accessLog: { kind: 'all' }, onError: (e) => errors.push(e) });
      await w.store.close();
      for (let i = 0; i < 3; i += 1) assert.equal(decisions.check({ identity: 'carl', entitlement: 'payments/read' }).reason, 'no_grant');
      await decisions.stop();
      assert.deepEqual(decisions.status().accessLog, { recorded: 3, written: 0, dropped: 3, failedBatches: 1 });
      assert.equal(errors.length, 1);
    });
  });
}
