import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { eq } from 'drizzle-orm';
import { runLifecycleTick } from '../src/jobs/lifecycle.js';
import { approveRequest } from '../src/operations/approve-request.js';
import { changeEngagementEnd, endEngagement } from '../src/operations/change-engagement-end.js';
import { changeIdentityStatus } from '../src/operations/change-identity-status.js';
import { createRequest } from '../src/operations/create-request.js';
import { revokeGrant } from '../src/operations/revoke-grant.js';
import type { Store } from '../src/store/database.js';
import { accessRequests, auditEvents, grants } from '../src/store/schema.js';
import { refusedWith } from './support/assert.js';
import { BACKENDS, freshStore } from './support/backends.js';
import { grantThrough } from './support/flows.js';
import { buildWorld, DAY, type World } from './support/world.js';

for (const backend of BACKENDS) {
  describe(`grant ends: expiry, revocation, engagements and leavers (${backend})`, () => {
    let store: Store;
    let w: World;
    beforeEach(async () => { store = await freshStore(backend); w = await buildWorld(store); });
    afterEach(async () => { await store.close(); });

    const grant = async (id: string) => (await store.db.select().from(grants).where(eq(grants.id, id)))[0]!;
    const request = async (id: string) => (await store.db.select().from(accessRequests).where(eq(accessRequests.id, id)))[0]!;

    it('the worker expires a grant once its window ends, not before, with an audit event', async () => {
      const id = await grantThrough(w, 'carl', { entitlement: 'payments/read', justification: 'report', duration: '2m' }, ['sam', 'olivia']);
      w.clock.advance(60_000);
      assert.equal((await runLifecycleTick(w.worker)).grantsExpired, 0);
      assert.equal((await grant(id)).status, 'active');
      w.clock.advance(60_000);
      assert.equal((await runLifecycleTick(w.worker)).grantsExpired, 1);
      assert.equal((await grant(id)).status, 'expired');
      const events = await store.db.select().from(auditEvents).where(eq(auditEvents.subjectId, id));
      assert.deepEqual(events.map((e) => e.action), ['grant.created', 'grant.expired']);
      assert.equal((await runLifecycleTick(w.worker)).grantsExpired, 0, 'a second pass does nothing');
    });

    it('a grant approved for a later window is scheduled and activated when the window opens', async () => {
      const startsAt = new Date(w.clock.now().getTime() + DAY).toISOString();
      const id = await grantThrough(w, 'carl', { entitlement: 'payments/read', justification: 'next week', startsAt, duration: '1d' }, ['sam', 'olivia']);
      assert.equal((await grant(id)).status, 'scheduled');
      w.clock.advance(DAY);
      assert.equal((await runLifecycleTick(w.worker)).grantsActivated, 1);
      assert.equal((await grant(id)).status, 'active');
    });

    it('a request pending too long expires and can no longer be approved', async () => {
      const r = await createRequest(await w.as('carl'), { entitlement: 'payments/read', justification: 'x', duration: '30d' });
      w.clock.advance(7 * DAY + 1);
      await refusedWith(approveRequest(await w.as('sam'), { request: r.id }), 'request.not_pending');
      assert.equal((await runLifecycleTick(w.worker)).requestsExpired, 1);
      assert.equal((await request(r.id)).status, 'expired');
    });

    it('a grant never ends after the engagement', async () => {
      await refusedWith(createRequest(await w.as('carl'), { entitlement: 'payments/read', justification: 'x', duration: '61d' }),
        'grant.exceeds_engagement_end', 'endsAt');
    });

    it('a non-employee with no active engagement cannot ask for anything', async () => {
      await refusedWith(createRequest(await w.as('vera'), { entitlement: 'payments/read', justification: 'x', duration: '1d' }), 'engagement.required');
    });

    it('shortening an engagement shortens the grants and pending requests under it', async () => {
      const id = await grantThrough(w, 'carl', { entitlement: 'payments/read', justification: 'x', duration: '20d' }, ['sam', 'olivia']);
      const pending = await createRequest(await w.as('carl'), { entitlement: 'payments/initiate', justification: 'y', duration: '20d' });
      const newEnd = new Date(w.clock.now().getTime() + 5 * DAY);
      await changeEngagementEnd(await w.as('ivan'), { engagement: w.engagementId, endsAt: newEnd.toISOString(), reason: 'budget cut' });
      assert.equal((await grant(id)).endsAt?.getTime(), newEnd.getTime());
      assert.equal((await request(pending.id)).endsAt.getTime(), newEnd.getTime());
    });

    it('ending an engagement revokes its grants and cancels its pending requests', async () => {
      const id = await grantThrough(w, 'carl', { entitlement: 'payments/read', justification: 'x', duration: '20d' }, ['sam', 'olivia']);
      const pending = await createRequest(await w.as('carl'), { entitlement: 'payments/initiate', justification: 'y', duration: '2d' });
      await endEngagement(await w.as('ivan'), { engagement: w.engagementId, reason: 'contract terminated' });
      assert.equal((await grant(id)).status, 'revoked');
      assert.equal((await request(pending.id)).status, 'cancelled');
    });

    it('the worker ends an engagement on its end date', async () => {
      await grantThrough(w, 'carl', { entitlement: 'payments/read', justification: 'x', duration: '10d' }, ['sam', 'olivia']);
      w.clock.advance(60 * DAY);
      const result = await runLifecycleTick(w.worker);
      assert.equal(result.engagementsEnded, 1);
      assert.equal(result.grantsExpired, 1);
    });

    it('terminating an identity revokes all its grants and cancels its pending requests', async () => {
      const a = await grantThrough(w, 'carl', { entitlement: 'payments/read', justification: 'x', duration: '10d' }, ['sam', 'olivia']);
      const pending = await createRequest(await w.as('carl'), { entitlement: 'payments/initiate', justification: 'y', duration: '2d' });
      await changeIdentityStatus(await w.as('ivan'), { identity: 'carl', status: 'terminated', reason: 'left the vendor' });
      assert.equal((await grant(a)).status, 'revoked');
      assert.equal((await request(pending.id)).status, 'cancelled');
      await refusedWith(changeIdentityStatus(await w.as('ivan'), { identity: 'carl', status: 'active', reason: 'oops' }), 'identity.invalid_transition');
    });

    it('when the sponsor leaves, new requests are refused but running grants run to their end', async () => {
      const a = await grantThrough(w, 'carl', { entitlement: 'payments/read', justification: 'x', duration: '10d' }, ['sam', 'olivia']);
      await changeIdentityStatus(await w.as('ivan'), { identity: 'sam', status: 'terminated', reason: 'resigned' });
      await refusedWith(createRequest(await w.as('carl'), { entitlement: 'payments/initiate', justification: 'y', duration: '2d' }), 'identity.sponsor_inactive');
      assert.equal((await grant(a)).status, 'active');
    });

    it('an extension goes back to the sponsor and moves the end of the same grant', async () => {
      const id = await grantThrough(w, 'carl', { entitlement: 'payments/read', justification: 'x', duration: '2d' }, ['sam', 'olivia']);
      const ext = await createRequest(await w.as('carl'), { kind: 'extension', targetGrant: id, justification: 'more time', duration: '3d' });
      assert.equal(ext.stages[0]?.kind, 'sponsor');
      await approveRequest(await w.as('sam'), { request: ext.id });
      const done = await approveRequest(await w.as('tom'), { request: ext.id });
      assert.equal(done.grantId, id);
      assert.equal((await grant(id)).endsAt?.getTime(), w.clock.now().getTime() + 5 * DAY);
      assert.equal((await store.db.select().from(grants)).length, 1, 'an extension creates no second grant');
    });

    it('an extension past the tier maximum is refused', async () => {
      const id = await grantThrough(w, 'carl', { entitlement: 'payments/admin', justification: 'x', duration: '3h' }, ['sam', 'tom', 'selma']);
      await refusedWith(createRequest(await w.as('carl'), { kind: 'extension', targetGrant: id, justification: 'y', duration: '2h' }), 'request.exceeds_max_duration');
    });

    it('a scope change replaces the grant with one of another entitlement on the same system', async () => {
      const id = await grantThrough(w, 'carl', { entitlement: 'payments/read', justification: 'x', duration: '2d' }, ['sam', 'olivia']);
      await refusedWith(createRequest(await w.as('carl'), { kind: 'scope_change', targetGrant: id, entitlement: 'crm/read', justification: 'y', duration: '1d' }), 'request.invalid_target_grant', 'entitlement');
      const newId = await grantThrough(w, 'carl', { kind: 'scope_change', targetGrant: id, entitlement: 'payments/initiate', justification: 'y', duration: '1d' }, ['sam', 'olivia']);
      assert.equal((await grant(id)).status, 'revoked');
      assert.equal((await grant(newId)).status, 'active');
    });

    it('holding both sides of a separation-of-duties rule is refused', async () => {
      await grantThrough(w, 'carl', { entitlement: 'payments/initiate', justification: 'x', duration: '2d' }, ['sam', 'olivia']);
      await refusedWith(createRequest(await w.as('carl'), { entitlement: 'payments/approve', justification: 'y', duration: '1d' }), 'request.sod_conflict', 'entitlement');
    });

    it('the holder, the sponsor and owners may revoke early; an unrelated person is told the grant does not exist', async () => {
      const id = await grantThrough(w, 'carl', { entitlement: 'payments/read', justification: 'x', duration: '2d' }, ['sam', 'olivia']);
      await refusedWith(revokeGrant(await w.as('eve'), { grant: id, reason: 'why not' }), 'grant.not_found');
      await refusedWith(revokeGrant(await w.as('audrey'), { grant: id, reason: 'auditors read, they do not revoke' }), 'actor.forbidden');
      await revokeGrant(await w.as('sam'), { grant: id, reason: 'work finished early' });
      assert.equal((await grant(id)).status, 'revoked');
      assert.equal((await grant(id)).endedBy, await w.id('sam'));
      await refusedWith(revokeGrant(await w.as('sam'), { grant: id, reason: 'again' }), 'grant.already_ended');
      w.clock.advance(3 * DAY);
      assert.equal((await runLifecycleTick(w.worker)).grantsExpired, 0, 'a revoked grant does not expire again');
    });

    it('a request that asks for more than a window allows is refused with the field named', async () => {
      await refusedWith(createRequest(await w.as('carl'), { entitlement: 'payments/read', justification: 'x' }), 'request.invalid_window', 'endsAt');
      await refusedWith(createRequest(await w.as('carl'), { entitlement: 'payments/read', justification: 'x', duration: 'forever' }), 'input.invalid', 'duration');
      await refusedWith(createRequest(await w.as('carl'), { entitlement: 'payments/read', justification: '', duration: '1h' }), 'input.invalid', 'justification');
    });
  });
}
