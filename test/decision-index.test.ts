import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { sql } from 'drizzle-orm';
import { DecisionService } from '../src/decision/service.js';
import { decisionSettingsOf } from '../src/domain/decision-settings.js';
import { changeEngagementEnd } from '../src/operations/change-engagement-end.js';
import { changeIdentityStatus } from '../src/operations/change-identity-status.js';
import { initTenure } from '../src/operations/init-tenure.js';
import { revokeGrant } from '../src/operations/revoke-grant.js';
import { ManualClock } from '../src/domain/clock.js';
import { parsePolicyOrRefuse } from '../src/policy/resolve.js';
import type { Store } from '../src/store/database.js';
import { BACKENDS, freshStore } from './support/backends.js';
import { grantThrough } from './support/flows.js';
import { buildWorld, DAY, HOUR, LIFECYCLE_POLICY, type World } from './support/world.js';

/**
 * Puts the fixture's actions and conditions where `policy apply` stores them (policy_state.document
 * `decision`), in case the apply in use does not yet: the index reads them from there.
 */
const storeDecisionSettings = async (store: Store): Promise<void> => {
  const settings = decisionSettingsOf((await parsePolicyOrRefuse(LIFECYCLE_POLICY)).document);
  await store.db.execute(sql`UPDATE policy_state SET document = jsonb_set(document, '{decision}', ${JSON.stringify(settings)}::jsonb)
    WHERE id = 1 AND NOT document ? 'decision'`);
};

const ADMIN_CONTEXT = { mfa: true, trustedDevice: true, sourceAddress: '10.20.30.40' };

for (const backend of BACKENDS) {
  describe(`the decision index (${backend})`, () => {
    let w: World;
    let decisions: DecisionService;
    let readGrant: string;
    let adminGrant: string;
    before(async () => {
      w = await buildWorld(await freshStore(backend));
      await storeDecisionSettings(w.store);
      decisions = await DecisionService.start({ store: w.store, clock: w.clock, poll: false });
    });
    after(async () => {
      await decisions.stop();
      await w.store.close();
    });

    it('an unknown identity or entitlement is answered with a deny and its reason, never an error', () => {
      assert.equal(decisions.check({ identity: 'nobody', entitlement: 'payments/read' }).reason, 'unknown_identity');
      assert.equal(decisions.check({ identity: 'carl', entitlement: 'payments/nothing' }).reason, 'unknown_entitlement');
      assert.equal(decisions.check({ identity: 'carl', system: 'payments', action: 'drop' }).reason, 'unknown_entitlement');
      assert.equal(decisions.check({ identity: 'carl', entitlement: 'payments/read' }).reason, 'no_grant');
    });

    it('a grant approved in this process is allowed once sync has run, with its end', async () => {
      readGrant = await grantThrough(w, 'carl', { entitlement: 'payments/read', justification: 'report', duration: '2d' }, ['sam', 'olivia']);
      assert.equal(decisions.check({ identity: 'carl', entitlement: 'payments/read' }).decision, 'deny', 'answers come from memory');
      await decisions.sync();
      const answer = decisions.check({ identity: 'carl', entitlement: 'payments/read' });
      assert.deepEqual({ ...answer, evaluatedAt: undefined }, {
        decision: 'allow', reason: 'grant_active', entitlement: 'payments/read', warnings: [], evaluatedAt: undefined,
        grant: { id: readGrant, endsAt: new Date(w.clock.now().getTime() + 2 * DAY) },
      });
      assert.equal(answer.evaluatedAt.getTime(), w.clock.now().getTime());
    });

    it('the identity may be named by id or handle, the access by entitlement or by system and action', async () => {
      const carl = await w.id('carl');
      const byAction = decisions.check({ identity: carl, system: 'payments', action: 'select' });
      assert.equal(byAction.decision, 'allow');
      assert.equal(byAction.entitlement, 'payments/read');
      assert.equal(decisions.check({ identity: carl, system: 'payments', action: 'insert' }).reason, 'no_grant');
    });

    it('privileged access needs MFA, a trusted device and an address in the allowed network', async () => {
      adminGrant = await grantThrough(w, 'carl', { entitlement: 'payments/admin', justification: 'fix', duration: '3h' }, ['sam', 'tom', 'selma']);
      await decisions.sync();
      const ask = (context: object) => decisions.check({ identity: 'carl', entitlement: 'payments/admin', context });
      assert.equal(ask({}).reason, 'condition_mfa_required');
      assert.equal(ask({ mfa: true }).reason, 'condition_trusted_device_required');
      assert.equal(ask({ ...ADMIN_CONTEXT, sourceAddress: '192.168.1.1' }).reason, 'condition_source_not_allowed');
      assert.deepEqual(ask(ADMIN_CONTEXT).grant?.id, adminGrant);
      const alter = decisions.check({ identity: 'carl', system: 'payments', action: 'alter', context: ADMIN_CONTEXT });
      assert.equal(alter.decision, 'allow');
    });

    it('a stale index refuses privileged access and is not ready, until a refresh succeeds', async () => {
      assert.equal(decisions.ready(), true);
      w.clock.advance(6_000);
      assert.equal(decisions.ready(), false);
      const privileged = decisions.check({ identity: 'carl', entitlement: 'payments/admin', context: ADMIN_CONTEXT });
      assert.deepEqual([privileged.decision, privileged.reason], ['deny', 'index_stale']);
      const standard = decisions.check({ identity: 'carl', entitlement: 'payments/read' });
      assert.deepEqual([standard.decision, standard.warnings], ['allow', ['index_stale']]);
      await decisions.sync();
      assert.equal(decisions.ready(), true);
      assert.equal(decisions.check({ identity: 'carl', entitlement: 'payments/admin', context: ADMIN_CONTEXT }).decision, 'allow');
    });

    it('a grant past its end is denied before the worker has expired it', async () => {
      w.clock.advance(3 * HOUR);
      await decisions.sync();
      assert.equal(decisions.check({ identity: 'carl', entitlement: 'payments/admin', context: ADMIN_CONTEXT }).reason, 'grant_ended');
    });

    it('a revocation is seen by the next answer after sync', async () => {
      const other = await grantThrough(w, 'carl', { entitlement: 'payments/approve', justification: 'month end', duration: '1d' }, ['sam', 'olivia']);
      await decisions.sync();
      assert.equal(decisions.check({ identity: 'carl', entitlement: 'payments/approve' }).decision, 'allow');
      await revokeGrant(await w.as('ivan'), { grant: other, reason: 'no longer needed' });
      await decisions.sync();
      assert.deepEqual(decisions.check({ identity: 'carl', entitlement: 'payments/approve' }).reason, 'grant_ended');
    });

    it('moving the engagement end earlier shortens the answer to the new end', async () => {
      const newEnd = new Date(w.clock.now().getTime() + HOUR);
      await changeEngagementEnd(await w.as('ivan'), { engagement: w.engagementId, endsAt: newEnd.toISOString(), reason: 'project cut short' });
      await decisions.sync();
      assert.deepEqual(decisions.check({ identity: 'carl', entitlement: 'payments/read' }).grant, { id: readGrant, endsAt: newEnd });
    });

    it('a contractor whose sponsor left keeps running grants, with a warning', async () => {
      await changeIdentityStatus(await w.as('ivan'), { identity: 'sam', status: 'terminated', reason: 'resigned' });
      await decisions.sync();
      const answer = decisions.check({ identity: 'carl', entitlement: 'payments/read' });
      assert.deepEqual([answer.decision, answer.warnings], ['allow', ['sponsor_inactive']]);
    });

    it('a terminated contractor is denied at the next answer after sync', async () => {
      await changeIdentityStatus(await w.as('ivan'), { identity: 'carl', status: 'terminated', reason: 'left the vendor' });
      await decisions.sync();
      assert.equal(decisions.check({ identity: 'carl', entitlement: 'payments/read' }).reason, 'identity_inactive');
    });

    it('a second index loaded from the database gives the same answers as the one kept current', async () => {
      const fresh = await DecisionService.start({ store: w.store, clock: w.clock, poll: false });
      try {
        assert.deepEqual(fresh.status().sizes, decisions.status().sizes);
        assert.equal(fresh.status().seq, decisions.status().seq);
        assert.equal(fresh.check({ identity: 'carl', entitlement: 'payments/read' }).reason, 'identity_inactive');
      } finally {
        await fresh.stop();
      }
    });
  });

  describe(`a decision index that cannot refresh (${backend})`, () => {
    it('fails closed at once: not ready, privileged access refused, the failure reported', async () => {
      const store = await freshStore(backend);
      const clock = new ManualClock();
      await initTenure({ store, clock, actor: { id: undefined, channel: 'system' } }, { handle: 'ada', displayName: 'Ada Admin' });
      const errors: Error[] = [];
      const decisions = await DecisionService.start({ store, clock, poll: false, onError: (e) => errors.push(e) });
      assert.equal(decisions.ready(), true);
      await store.close();
      await decisions.sync();
      assert.equal(decisions.ready(), false);
      assert.equal(errors.length, 1);
      assert.ok(decisions.status().lastError);
      assert.equal(decisions.check({ identity: 'ada', entitlement: 'payments/read' }).decision, 'deny');
      await decisions.stop();
    });
  });
}
