import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { eq, sql } from 'drizzle-orm';
import { runLifecycleTick } from '../src/jobs/lifecycle.js';
import { runProvisioningPass } from '../src/jobs/provisioning/index.js';
import { inTransaction } from '../src/operations/context.js';
import { confirmProvisioningTask } from '../src/operations/confirm-provisioning-task.js';
import { listFindings } from '../src/operations/list-findings.js';
import { listProvisioningJobs } from '../src/operations/list-provisioning-jobs.js';
import { revokeLiveGrants } from '../src/operations/lib/end-access.js';
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
  });
}
