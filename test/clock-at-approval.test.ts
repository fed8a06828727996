import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { eq } from 'drizzle-orm';
import { runLifecycleTick } from '../src/jobs/lifecycle.js';
import { approveRequest } from '../src/operations/approve-request.js';
import { createRequest } from '../src/operations/create-request.js';
import { showRequest } from '../src/operations/list-requests.js';
import { engagements, grants } from '../src/store/schema.js';
import { BACKENDS, freshStore } from './support/backends.js';
import { buildWorld, DAY, HOUR, type World } from './support/world.js';

/**
 * A request for a length of time gets that length from its final approval, not from when it was
 * asked: a 2-hour request approved an hour later gives 2 hours. It waits for a decision as long as
 * the policy lets a request wait (not only its own length), and never runs past the engagement.
 */
for (const backend of BACKENDS) {
  describe(`the clock of a request for a length of time starts at its final approval (${backend})`, () => {
    let w: World;
    const ask = async (who: string, entitlement: string, window: { duration?: string; endsAt?: string }) =>
      (await createRequest(await w.as(who), { entitlement, justification: 'work', ticket: 'T-1', ...window })).id;
    const approve = async (who: string, request: string) => (await approveRequest(await w.as(who), { request })).grantId;
    const grantOf = async (id: string) => (await w.store.db.select().from(grants).where(eq(grants.id, id)))[0]!;

    before(async () => { w = await buildWorld(await freshStore(backend)); });
    after(async () => { await w?.store.close(); });

    it('a 2-hour request approved an hour and a half later gives two hours from the final approval, and the request shows that window', async () => {
      const id = await ask('carl', 'payments/read', { duration: '2h' });
      assert.equal((await showRequest(await w.as('carl'), id)).durationMs, 2 * HOUR);
      w.clock.advance(HOUR);
      await approve('sam', id);
      w.clock.advance(HOUR / 2);
      const approvedAt = w.clock.now();
      const grant = await grantOf((await approve('olivia', id))!);
      assert.equal(grant.startsAt.toISOString(), approvedAt.toISOString());
      assert.equal(grant.endsAt!.getTime() - approvedAt.getTime(), 2 * HOUR);
      const shown = await showRequest(await w.as('carl'), id);
      assert.equal(new Date(shown.startsAt).toISOString(), approvedAt.toISOString(), 'the request is rewritten to the window given');
      assert.equal(new Date(shown.endsAt).toISOString(), grant.endsAt!.toISOString());
    });

    it('a request for a length of time still waits once that length has passed undecided, and lapses only at its pending time', async () => {
      const id = await ask('carl', 'payments/initiate', { duration: '1h' });
      w.clock.advance(3 * HOUR);
      await runLifecycleTick(w.worker);
      assert.equal((await showRequest(await w.as('carl'), id)).status, 'pending');
      w.clock.advance(7 * DAY);
      await runLifecycleTick(w.worker);
      assert.equal((await showRequest(await w.as('carl'), id)).status, 'expired', 'the policy says 7d');
    });

    it('a request with an explicit end keeps its window: once that end has passed undecided it expires and cannot be approved', async () => {
      const id = await ask('eve', 'crm/read', { endsAt: new Date(w.clock.now().getTime() + HOUR).toISOString() });
      w.clock.advance(2 * HOUR);
      await assert.rejects(approve('sam', id), /expired/);
      await runLifecycleTick(w.worker);
      assert.equal((await showRequest(await w.as('eve'), id)).status, 'expired');
    });

    it("a length of time that would now run past the engagement's end is cut at that end", async () => {
      const [engagement] = await w.store.db.select().from(engagements).where(eq(engagements.id, w.engagementId));
      w.clock.set(new Date(engagement!.endsAt.getTime() - 8 * DAY));
      const id = await ask('carl', 'payments/initiate', { duration: '7d' });
      w.clock.advance(3 * DAY);
      await approve('sam', id);
      const grant = await grantOf((await approve('olivia', id))!);
      assert.equal(grant.endsAt!.toISOString(), engagement!.endsAt.toISOString());
    });
  });
}
