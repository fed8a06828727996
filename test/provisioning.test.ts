import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { eq } from 'drizzle-orm';
import { runLifecycleTick } from '../src/jobs/lifecycle.js';
import { runProvisioningPass } from '../src/jobs/provisioning/index.js';
import { inTransaction } from '../src/work/context.js';
import { confirmProvisioningTask } from '../src/operations/confirm-provisioning-task.js';
import { listFindings } from '../src/operations/list-findings.js';
import { listProvisioningJobs } from '../src/operations/list-provisioning-jobs.js';
import { revokeLiveGrants } from '../src/operations/lib/ending/end-access.js';
import { releaseHeldRevocations } from '../src/operations/release-held-revocations.js';
import { revokeGrant } from '../src/operations/revoke-grant.js';
import type { Store } from '../src/store/database.js';
import { grants } from '../src/store/schema.js';
import { refusedWith } from './support/assert.js';
import { BACKENDS, freshStore } from './support/backends.js';
import { grantThrough } from './support/flows.js';
import { applyPolicyText, buildProvisioningWorld, provisioningPolicy, startPgTarget, type PgTarget } from './support/provisioning-world.js';
import { DAY, HOUR, type World } from './support/world.js';

let target: PgTarget;
before(async () => { target = await startPgTarget(); });
after(async () => { await target?.stop(); });

const grantOf = async (w: World, id: string) => (await w.store.db.select().from(grants).where(eq(grants.id, id)))[0]!;
const readGrant = (w: World) => grantThrough(w, 'carl', { entitlement: 'payments/read', justification: 'monthly report', duration: '7d' }, ['sam', 'olivia']);
const member = (handle: string, role: string) => `${target.prefix}${handle} ${role}`;
const jobsOf = async (w: World, grant: string) => listProvisioningJobs(await w.as('ivan'), { grant });

for (const backend of BACKENDS) {
  describe(`provisioning through the outbox (${backend})`, () => {
    let store: Store;
    let w: World;
    before(async () => { store = await freshStore(backend); w = await buildProvisioningWorld(store, target); });
    after(async () => { await store?.close(); });

    it('an approved grant becomes a real role membership, and revoking it removes the membership, read back from the target', async () => {
      const id = await readGrant(w);
      assert.equal((await grantOf(w, id)).provisioningState, 'pending');
      assert.deepEqual((await jobsOf(w, id)).map((j) => [j.action, j.state]), [['provision', 'queued']], 'the job was written with the grant');
      const first = await runProvisioningPass(w.worker);
      assert.equal(first.done, 1);
      assert.equal((await grantOf(w, id)).provisioningState, 'provisioned');
      assert.ok((await target.memberships()).includes(member('carl', target.roles.read)));

      await revokeGrant(await w.as('sam'), { grant: id, reason: 'report delivered' });
      assert.equal((await grantOf(w, id)).provisioningState, 'pending', 'removal is pending until the target confirms it');
      await runProvisioningPass(w.worker);
      const ended = await grantOf(w, id);
      assert.equal(ended.provisioningState, 'deprovisioned');
      assert.equal((ended.provisioningEvidence as { readBack: string }).readBack, 'absent');
      assert.ok(!(await target.memberships()).includes(member('carl', target.roles.read)));
    });

    it('a grant that expires is removed from the target by the next pass after the lifecycle ends it', async () => {
      const id = await grantThrough(w, 'carl', { entitlement: 'payments/approve', justification: 'quarter close', duration: '2h' }, ['sam', 'olivia']);
      await runProvisioningPass(w.worker);
      assert.ok((await target.memberships()).includes(member('carl', target.roles.approve)));
      w.clock.advance(3 * HOUR);
      await runLifecycleTick(w.worker);
      await runProvisioningPass(w.worker);
      assert.equal((await grantOf(w, id)).provisioningState, 'deprovisioned');
      assert.ok(!(await target.memberships()).includes(member('carl', target.roles.approve)));
    });

    it('a revocation rolled back with its transaction leaves no provisioning job behind', async () => {
      const id = await readGrant(w);
      await runProvisioningPass(w.worker);
      await assert.rejects(inTransaction(w.worker, async (work) => {
        await revokeLiveGrants(work, eq(grants.id, id), 'about to fail');
        throw new Error('boom');
      }), /boom/);
      assert.deepEqual((await jobsOf(w, id)).map((j) => j.action), ['provision']);
      assert.equal((await grantOf(w, id)).status, 'active');
      await revokeGrant(await w.as('ivan'), { grant: id, reason: 'cleanup' });
      await runProvisioningPass(w.worker);
    });

    it('a provision overtaken by a revocation is superseded, so the removal never waits behind it', async () => {
      const id = await grantThrough(w, 'carl', { entitlement: 'payments/initiate', justification: 'batch', ticket: 'CHG-1', duration: '1d' }, ['sam', 'olivia']);
      await revokeGrant(await w.as('carl'), { grant: id, reason: 'not needed after all' });
      await runProvisioningPass(w.worker);
      assert.deepEqual((await jobsOf(w, id)).map((j) => [j.action, j.state]).reverse(), [['provision', 'superseded'], ['deprovision', 'done']]);
      assert.equal((await grantOf(w, id)).provisioningState, 'deprovisioned');
      assert.ok(!(await target.memberships()).includes(member('carl', target.roles.initiate)));
    });

    it('a target that cannot be reached: retries back off, the grant shows failed with a finding, and success closes it', async () => {
      await applyPolicyText(w, provisioningPolicy(target, { deadTarget: true, maxAttempts: 2 }));
      const id = await grantThrough(w, 'eve', { entitlement: 'payments/read', justification: 'audit support', duration: '2d' }, ['sam', 'olivia']);
      const first = await runProvisioningPass(w.worker);
      assert.equal(first.failed, 1);
      const [job] = await jobsOf(w, id);
      assert.equal(job!.state, 'queued');
      assert.match(job!.lastError ?? '', /cannot|ECONNREFUSED|connect/i);
      assert.equal((await runProvisioningPass(w.worker)).failed, 0, 'nothing is retried before its backoff has passed');
      w.clock.advance(31_000);
      await runProvisioningPass(w.worker);
      assert.equal((await jobsOf(w, id))[0]!.state, 'failing');
      assert.equal((await grantOf(w, id)).provisioningState, 'failed');
      const open = await listFindings(await w.as('selma'), { status: 'open', kind: 'provisioning_failed' });
      assert.equal(open.filter((f) => f.grantId === id).length, 1, 'one finding, owned by the technical owner');
      assert.equal(open.find((f) => f.grantId === id)!.owner, 'tom');

      await applyPolicyText(w, provisioningPolicy(target));
      w.clock.advance(HOUR);
      assert.equal((await runProvisioningPass(w.worker)).done, 1);
      assert.equal((await grantOf(w, id)).provisioningState, 'provisioned');
      const after = await listFindings(await w.as('selma'), { kind: 'provisioning_failed' });
      assert.equal(after.find((f) => f.grantId === id)!.status, 'resolved');
      await revokeGrant(await w.as('ivan'), { grant: id, reason: 'cleanup' });
      await runProvisioningPass(w.worker);
    });

    it('a batch revoking more than the brake allows is held until security releases it, and IAM cannot release it', async () => {
      await applyPolicyText(w, provisioningPolicy(target, { brake: { share: 0.1, minimum: 2 } }));
      const ids: string[] = [];
      for (const entitlement of ['payments/read', 'payments/approve']) {
        ids.push(await grantThrough(w, 'carl', { entitlement, justification: 'brake test', duration: '1d' }, ['sam', 'olivia']));
      }
      ids.push(await grantThrough(w, 'eve', { entitlement: 'payments/read', justification: 'brake test', duration: '1d' }, ['sam', 'olivia']));
      await runProvisioningPass(w.worker);
      const before = await target.memberships();
      for (const id of ids) await revokeGrant(await w.as('ivan'), { grant: id, reason: 'mass cleanup' });
      const pass = await runProvisioningPass(w.worker);
      assert.equal(pass.held, 3);
      assert.deepEqual(await target.memberships(), before, 'nothing was removed while held');
      const held = await listFindings(await w.as('selma'), { status: 'open', kind: 'mass_revocation_held' });
      assert.equal(held.length, 1);
      await refusedWith(releaseHeldRevocations(await w.as('ivan'), { system: 'payments', reason: 'expected' }), 'actor.forbidden');
      assert.deepEqual(await releaseHeldRevocations(await w.as('selma'), { system: 'payments', reason: 'planned offboarding' }),
        { system: 'payments', released: 3 });
      await runProvisioningPass(w.worker);
      for (const id of ids) assert.equal((await grantOf(w, id)).provisioningState, 'deprovisioned');
      assert.equal((await listFindings(await w.as('selma'), { status: 'open', kind: 'mass_revocation_held' })).length, 0);
      await applyPolicyText(w, provisioningPolicy(target));
    });

    it('a system without a connector turns grants into tasks for its technical owner, confirmed by them, never by the holder', async () => {
      const id = await grantThrough(w, 'eve', { entitlement: 'crm/read', justification: 'customer calls', duration: '7d' }, ['sam', 'olivia']);
      assert.equal((await runProvisioningPass(w.worker)).tasksOpened, 1);
      const [task] = await listProvisioningJobs(await w.as('tom'), { grant: id });
      assert.equal(task!.state, 'awaiting_confirmation');
      assert.equal((await grantOf(w, id)).provisioningState, 'pending', 'not provisioned until someone confirms');
      await refusedWith(confirmProvisioningTask(await w.as('eve'), { job: task!.id, note: 'I did it myself' }), 'provisioning.own_access_forbidden');
      await refusedWith(confirmProvisioningTask(await w.as('carl'), { job: task!.id, note: 'done' }), 'actor.forbidden');
      await confirmProvisioningTask(await w.as('tom'), { job: task!.id, note: 'account created in CRM admin' });
      assert.equal((await grantOf(w, id)).provisioningState, 'provisioned');

      await revokeGrant(await w.as('eve'), { grant: id, reason: 'project over' });
      await runProvisioningPass(w.worker);
      const removal = (await listProvisioningJobs(await w.as('tom'), { grant: id, state: 'awaiting_confirmation' }))[0]!;
      w.clock.advance(DAY + HOUR);
      assert.equal((await runProvisioningPass(w.worker)).overdueTasks, 1);
      const overdue = (await listFindings(await w.as('tom'), { status: 'open', kind: 'manual_task_overdue' })).find((f) => f.jobId === removal.id);
      assert.equal(overdue?.severity, 'high', 'an overdue removal is a serious finding, visible to the owner');
      await confirmProvisioningTask(await w.as('tom'), { job: removal.id, note: 'account deleted' });
      assert.equal((await grantOf(w, id)).provisioningState, 'deprovisioned');
      assert.equal((await listFindings(await w.as('tom'), { kind: 'manual_task_overdue' })).find((f) => f.jobId === removal.id)?.status, 'resolved');
    });
  });
}
