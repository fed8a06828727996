import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { eq } from 'drizzle-orm';
import { approveRequest } from '../src/operations/approve-request.js';
import { changeIdentityStatus } from '../src/operations/change-identity-status.js';
import { createRequest } from '../src/operations/create-request.js';
import { denyRequest } from '../src/operations/deny-request.js';
import { listGrants } from '../src/operations/list-grants.js';
import { listRequests } from '../src/operations/list-requests.js';
import type { Store } from '../src/store/database.js';
import { auditEvents, grants, requestStages } from '../src/store/schema.js';
import { refusedWith } from './support/assert.js';
import { BACKENDS, freshStore } from './support/backends.js';
import { buildWorld, type World } from './support/world.js';

for (const backend of BACKENDS) {
  describe(`approval routing and separation of duties (${backend})`, () => {
    let store: Store;
    let w: World;
    beforeEach(async () => { store = await freshStore(backend); w = await buildWorld(store); });
    afterEach(async () => { await store.close(); });

    const ask = async (as: string, input: Parameters<typeof createRequest>[1]) => createRequest(await w.as(as), input);
    const approve = async (as: string, request: string) => approveRequest(await w.as(as), { request });

    it('a contractor request goes to the sponsor, then the system owner, and only then becomes an active grant', async () => {
      const request = await ask('carl', { entitlement: 'payments/read', justification: 'monthly report', ticket: 'FIN-1', duration: '2m' });
      assert.deepEqual(request.stages.map((s) => s.kind), ['sponsor', 'system_owner']);
      const first = await approve('sam', request.id);
      assert.equal(first.status, 'pending');
      assert.equal((await listGrants(await w.as('carl'), {})).filter((g) => g.entitlement === 'payments/read').length, 0);
      const second = await approve('olivia', request.id);
      assert.equal(second.status, 'approved');
      const [grant] = await store.db.select().from(grants).where(eq(grants.id, second.grantId!));
      assert.equal(grant?.status, 'active');
      assert.equal(grant?.engagementId, w.engagementId);
      assert.equal(grant?.endsAt?.getTime(), w.clock.now().getTime() + 2 * 60_000);
    });

    it('nobody approves a request they made', async () => {
      const request = await ask('sam', { beneficiary: 'carl', entitlement: 'payments/initiate', justification: 'batch run', duration: '1d' });
      await refusedWith(approve('sam', request.id), 'request.self_approval_forbidden');
    });

    it('nobody approves a request for themselves, even one filed by their manager', async () => {
      const request = await ask('sam', { beneficiary: 'eve', entitlement: 'crm/read', justification: 'support rota', duration: '7d' });
      await refusedWith(approve('eve', request.id), 'request.beneficiary_approval_forbidden');
    });

    it('no one approves two stages of one request', async () => {
      // Sam files for Carl, so the sponsor stage goes to the alternates (Selma), who is also security:
      // having taken the sponsor stage she may not take the security stage too; Ivan stands in.
      const request = await ask('sam', { beneficiary: 'carl', entitlement: 'payments/admin', justification: 'hotfix', ticket: 'INC-8', duration: '4h' });
      await approve('selma', request.id);
      await approve('olivia', request.id);
      await refusedWith(approve('selma', request.id), 'request.second_stage_forbidden');
      assert.equal((await approve('ivan', request.id)).status, 'approved');
    });

    it('an approver needed for a later stage must leave the earlier one to an alternate', async () => {
      // Sam is Eve's manager and the only owner of the lab: if he took stage 1 nobody could take stage 2.
      const request = await ask('eve', { entitlement: 'lab/use', justification: 'experiments', duration: '1d' });
      await refusedWith(approve('sam', request.id), 'request.approver_needed_later');
      await approve('selma', request.id);
      assert.equal((await approve('sam', request.id)).status, 'approved');
    });

    it('someone outside the route cannot approve, whatever their role', async () => {
      const request = await ask('carl', { entitlement: 'payments/initiate', justification: 'batch run', duration: '1d' });
      await refusedWith(approve('audrey', request.id), 'request.not_an_approver');
      // Ada created Carl, so she is refused as a party to his requests before her role is looked at.
      await refusedWith(approve('ada', request.id), 'request.party_approval_forbidden');
      await refusedWith(approve('olivia', request.id), 'request.not_an_approver');
    });

    it('when the sponsor files the request, the sponsor stage goes to the alternates', async () => {
      const request = await ask('ivan', { beneficiary: 'eve', entitlement: 'crm/read', justification: 'customer calls', duration: '7d' });
      assert.equal(request.stages[0]?.usesAlternates, false, 'Ivan filed it, and Eve\'s manager Sam decides');
      const forCarl = await ask('sam', { beneficiary: 'carl', entitlement: 'payments/approve', justification: 'cover', duration: '1d' });
      assert.equal(forCarl.stages[0]?.usesAlternates, true);
      assert.deepEqual(forCarl.stages[0]?.approverIds, [await w.id('selma')]);
    });

    it('a request whose stage has no eligible approver is refused at creation', async () => {
      await refusedWith(ask('sam', { beneficiary: 'carl', entitlement: 'lab/use', justification: 'x', duration: '1h' }), 'request.no_eligible_approver');
    });

    it('privileged access needs security after the owner, and is capped at the tier maximum', async () => {
      await refusedWith(ask('carl', { entitlement: 'payments/admin', justification: 'hotfix', duration: '5h' }), 'request.exceeds_max_duration', 'endsAt');
      const request = await ask('carl', { entitlement: 'payments/admin', justification: 'hotfix', ticket: 'INC-7', duration: '4h' });
      assert.deepEqual(request.stages.map((s) => s.kind), ['sponsor', 'system_owner', 'security']);
      await approve('sam', request.id);
      await approve('tom', request.id);
      const done = await approve('selma', request.id);
      assert.equal(done.status, 'approved');
    });

    it('access outside the engagement scope is an exception security must approve, bounding the grant', async () => {
      const request = await ask('carl', { entitlement: 'crm/read', justification: 'reconcile customers', duration: '3d' });
      assert.equal(request.outOfScope, true);
      assert.equal(request.stages.at(-1)?.kind, 'security');
      await approve('sam', request.id);
      await approve('olivia', request.id);
      const done = await approve('selma', request.id);
      const [grant] = await store.db.select().from(grants).where(eq(grants.id, done.grantId!));
      assert.ok(grant?.exceptionId, 'the grant names its exception');
      const events = await store.db.select().from(auditEvents).where(eq(auditEvents.action, 'exception.created'));
      assert.ok(events.some((e) => e.subjectId === grant.exceptionId));
    });

    it('a denied request grants nothing and cannot be approved afterwards', async () => {
      const request = await ask('carl', { entitlement: 'payments/initiate', justification: 'batch run', duration: '1d' });
      await approve('sam', request.id);
      const denied = await denyRequest(await w.as('olivia'), { request: request.id, reason: 'use the batch service account' });
      assert.equal(denied.status, 'denied');
      await refusedWith(approve('tom', request.id), 'request.not_pending');
      assert.equal((await store.db.select().from(grants)).length, 0);
    });

    it('a refused approval changes nothing and writes no audit event', async () => {
      const request = await ask('eve', { entitlement: 'payments/read', justification: 'audit prep', duration: '1d' });
      const before = await store.db.select().from(auditEvents);
      await refusedWith(approve('eve', request.id), 'request.self_approval_forbidden');
      await refusedWith(approveRequest(await w.as('sam'), { request: request.id, stage: 1 }), 'request.not_pending', 'stage');
      assert.equal((await store.db.select().from(auditEvents)).length, before.length);
      const stages = await store.db.select().from(requestStages).where(eq(requestStages.requestId, request.id));
      assert.ok(stages.every((s) => s.status === 'pending'));
    });

    it('eligibility is checked again at the moment of the decision', async () => {
      const request = await ask('eve', { entitlement: 'crm/read', justification: 'quarter end', duration: '2d' });
      await approve('sam', request.id);
      await changeIdentityStatus(await w.as('ada'), { identity: 'olivia', status: 'suspended', reason: 'leave of absence' });
      await refusedWith(approve('olivia', request.id), 'actor.inactive');
      const done = await approve('tom', request.id);
      assert.equal(done.status, 'approved');
      await changeIdentityStatus(await w.as('ada'), { identity: 'olivia', status: 'active', reason: 'back' });
    });

    it('the inbox shows each approver what waits for them at the current stage, and nothing else', async () => {
      const request = await ask('carl', { entitlement: 'payments/approve', justification: 'inbox test', duration: '1d' });
      const inbox = async (handle: string) => (await listRequests(await w.as(handle), { view: 'inbox' })).map((r) => r.id);
      assert.deepEqual(await inbox('sam'), [request.id]);
      assert.deepEqual(await inbox('olivia'), [], 'the owner stage is not open yet');
      await approve('sam', request.id);
      assert.deepEqual(await inbox('sam'), []);
      assert.deepEqual(await inbox('olivia'), [request.id]);
      assert.deepEqual(await inbox('audrey'), []);
    });
  });
}
