import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { runProvisioningPass } from '../src/jobs/provisioning/index.js';
import { confirmProvisioningTask } from '../src/operations/confirm-provisioning-task.js';
import { acceptFinding } from '../src/operations/accept-finding.js';
import { listFindings } from '../src/operations/list-findings.js';
import { listProvisioningJobs } from '../src/operations/list-provisioning-jobs.js';
import { listSystems } from '../src/operations/list-systems.js';
import { measureRevocationLag } from '../src/operations/measure-revocation-lag.js';
import { reconcileSystems } from '../src/operations/reconcile-system.js';
import { revokeGrant } from '../src/operations/revoke-grant.js';
import type { Store } from '../src/store/database.js';
import { refusedWith } from './support/assert.js';
import { BACKENDS, freshStore } from './support/backends.js';
import { grantThrough } from './support/flows.js';
import { applyPolicyText, buildProvisioningWorld, provisioningPolicy, startPgTarget, type PgTarget } from './support/provisioning-world.js';
import { HOUR, type World } from './support/world.js';

const MINUTE = 60_000;
let target: PgTarget;
before(async () => { target = await startPgTarget(); });
after(async () => { await target?.stop(); });

const systemsAs = async (w: World, handle: string) => new Map((await listSystems(await w.as(handle))).items.map((s) => [s.key, s]));

for (const backend of BACKENDS) {
  describe(`what the Systems page shows, from a real target (${backend})`, () => {
    let store: Store;
    let w: World;
    before(async () => { store = await freshStore(backend); w = await buildProvisioningWorld(store, target); });
    after(async () => {
      await store?.close();
      await target.admin((client) => client.query(`DO $$ DECLARE r record; BEGIN FOR r IN SELECT rolname FROM pg_roles
        WHERE left(rolname, ${target.prefix.length}) = '${target.prefix}' LOOP EXECUTE format('DROP ROLE %I', r.rolname); END LOOP; END $$`));
    });

    it('a system never reconciled says so, and a manual system says it is manual', async () => {
      const systems = await systemsAs(w, 'tom');
      assert.equal(systems.get('payments')?.operations?.health, 'not_reconciled');
      assert.equal(systems.get('payments')?.operations?.connector, 'postgres-roles');
      assert.equal(systems.get('crm')?.operations?.health, 'manual');
      assert.equal(systems.get('crm')?.operations?.lastReconciliation, null);
    });

    it('the owner sees the last reconciliation with its drift; a contractor sees owners and entitlements but no operations', async () => {
      await grantThrough(w, 'carl', { entitlement: 'payments/read', justification: 'reports', duration: '7d' }, ['sam', 'olivia']);
      await runProvisioningPass(w.worker);
      // A DBA adds access Tenure never granted: reconciliation must show it as drift.
      await target.admin((client) => client.query(`GRANT ${target.roles.approve} TO "${target.prefix}carl"`));
      w.clock.advance(MINUTE);
      await reconcileSystems(await w.as('ivan'), { system: 'payments' });

      assert.equal((await systemsAs(w, 'tom')).get('payments')!.operations?.health, 'unsafe', 'the test target\'s connector is its superuser');
      const unsafe = (await listFindings(await w.as('selma'), { status: 'open', system: 'payments' })).find((f) => f.kind === 'connector_unsafe')!;
      await acceptFinding(await w.as('selma'), { finding: unsafe.id, reason: 'a test cluster, superuser on purpose',
        until: new Date(w.clock.now().getTime() + 30 * 24 * HOUR) });
      const payments = (await systemsAs(w, 'tom')).get('payments')!;
      assert.equal(payments.technicalOwner, 'tom');
      assert.equal(payments.businessOwner, 'olivia');
      assert.equal(payments.operations?.health, 'drift', 'with the exception accepted, the open drift shows: not ok');
      assert.deepEqual(payments.operations?.lastReconciliation?.drift, { access_without_grant: 1 });
      assert.equal(payments.operations?.lastReconciliation?.liveGrants, 1);
      assert.equal(payments.operations?.openDriftFindings, 1);
      assert.equal(payments.entitlements.find((e) => e.key === 'payments/approve')?.target, target.roles.approve);

      const seenByCarl = await systemsAs(w, 'carl');
      assert.equal(seenByCarl.get('payments')?.technicalOwner, 'tom');
      assert.ok(seenByCarl.get('payments')?.entitlements.some((e) => e.key === 'payments/read'));
      assert.ok([...seenByCarl.values()].every((s) => s.operations === null && s.entitlements.every((e) => e.target === null)));
      const seenBySam = await systemsAs(w, 'sam');
      assert.notEqual(seenBySam.get('lab')?.operations, null, 'sam owns the lab');
      assert.equal(seenBySam.get('payments')?.operations, null, 'but not payments');
    });

    it('a system whose removals fail is retrying, with the newest error, until the target answers again', async () => {
      const id = await grantThrough(w, 'eve', { entitlement: 'payments/read', justification: 'reports', duration: '7d' }, ['sam', 'olivia']);
      await runProvisioningPass(w.worker);
      await applyPolicyText(w, provisioningPolicy(target, { deadTarget: true }));
      await revokeGrant(await w.as('eve'), { grant: id, reason: 'done' });
      await runProvisioningPass(w.worker);
      const failing = (await systemsAs(w, 'ivan')).get('payments')!.operations!;
      assert.equal(failing.health, 'retrying');
      assert.equal(failing.retrying, 1);
      assert.match(failing.lastError ?? '', /ECONNREFUSED/);

      await applyPolicyText(w, provisioningPolicy(target));
      w.clock.advance(HOUR);
      await runProvisioningPass(w.worker);
      // The DBA takes back the grant of the test above; the next reconciliation closes its drift.
      await target.admin((client) => client.query(`REVOKE ${target.roles.approve} FROM "${target.prefix}carl"`));
      await reconcileSystems(await w.as('ivan'), { system: 'payments' });
      assert.equal((await systemsAs(w, 'ivan')).get('payments')!.operations!.health, 'ok');
    });

    it('revocation lag runs from when access was due to go to when the target confirmed it; an unconfirmed removal is open', async () => {
      const before = await measureRevocationLag(await w.as('audrey'), { days: 7 });
      const paid = await grantThrough(w, 'eve', { entitlement: 'payments/read', justification: 'reports', duration: '7d' }, ['sam', 'olivia']);
      const crm = await grantThrough(w, 'eve', { entitlement: 'crm/read', justification: 'calls', duration: '7d' }, ['sam', 'olivia']);
      await runProvisioningPass(w.worker);
      const [task] = await listProvisioningJobs(await w.as('tom'), { grant: crm, state: 'awaiting_confirmation' });
      await confirmProvisioningTask(await w.as('tom'), { job: task!.id, note: 'created' });

      await revokeGrant(await w.as('eve'), { grant: paid, reason: 'done' });
      await revokeGrant(await w.as('eve'), { grant: crm, reason: 'done' });
      w.clock.advance(5 * MINUTE);
      await runProvisioningPass(w.worker); // payments is removed by its connector now; crm becomes a task
      const midway = await measureRevocationLag(await w.as('audrey'), { days: 7 });
      const paymentsNow = midway.bySystem.find((s) => s.system === 'payments')!;
      assert.equal(paymentsNow.removed, before.bySystem.find((s) => s.system === 'payments')!.removed + 1);
      assert.equal(paymentsNow.maxMs! >= 5 * MINUTE, true);
      assert.equal(midway.bySystem.find((s) => s.system === 'crm')?.open, 1, 'the manual removal waits for its owner');

      w.clock.advance(2 * HOUR);
      const [removal] = await listProvisioningJobs(await w.as('tom'), { grant: crm, state: 'awaiting_confirmation' });
      await confirmProvisioningTask(await w.as('tom'), { job: removal!.id, note: 'deleted' });
      const done = await measureRevocationLag(await w.as('audrey'), { days: 7 });
      const crmDone = done.bySystem.find((s) => s.system === 'crm')!;
      assert.deepEqual([crmDone.open, crmDone.removed, crmDone.maxMs], [0, 1, 2 * HOUR + 5 * MINUTE]);
      assert.equal(done.byDay.length, 7);
      assert.equal(done.byDay.reduce((n, d) => n + d.removed, 0), done.removed);
    });

    it('revocation lag is for those who read provisioning, and its window is bounded', async () => {
      await refusedWith(measureRevocationLag(await w.as('carl'), {}), 'actor.forbidden');
      await refusedWith(measureRevocationLag(await w.as('audrey'), { days: 400 }), 'input.invalid', 'days');
    });
  });
}
