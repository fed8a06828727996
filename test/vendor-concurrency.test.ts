import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { and, eq } from 'drizzle-orm';
import { endDueVendors } from '../src/jobs/vendors.js';
import { changeVendorEnd } from '../src/operations/change-vendor-end.js';
import { createEngagement } from '../src/operations/create-engagement.js';
import { createIdentity } from '../src/operations/create-identity.js';
import type { TenureError } from '../src/domain/errors.js';
import { newId } from '../src/domain/ids.js';
import type { Store } from '../src/store/database.js';
import { engagements, identities, vendors } from '../src/store/schema.js';
import { refusedWith } from './support/assert.js';
import { BACKENDS, freshStore } from './support/backends.js';
import { holdInTransaction, stillWaiting } from './support/held-lock.js';
import { auditOf, birthright } from './support/review-world.js';
import { buildWorld, DAY, type World } from './support/world.js';

const ACME = 'Acme Integrators';

for (const backend of BACKENDS) {
  describe(`a vendor's end under concurrency (${backend})`, () => {
    let store: Store;
    let w: World;
    beforeEach(async () => { store = await freshStore(backend, { poolSize: 6 }); w = await buildWorld(store); });
    afterEach(async () => { await store.close(); });

    const later = (days: number) => new Date(w.clock.now().getTime() + days * DAY).toISOString();

    it('two workers carrying out the same contract end at once carry it out once', async () => {
      await createIdentity(await w.as('ivan'), { handle: 'acme-sync', displayName: 'Acme sync', kind: 'service_account', owner: 'tom', operatedBy: ACME });
      await birthright(w, 'acme-sync', 'payments/read');
      await changeVendorEnd(await w.as('sam'), { vendor: ACME, contractEnd: later(2), reason: 'short contract' });
      w.clock.advance(2 * DAY);
      const [a, b] = await Promise.all([endDueVendors(w.worker), endDueVendors(w.worker)]);
      assert.equal(a + b, 1);
      assert.equal((await auditOf(w, 'vendor.contract_ended')).length, 1);
      assert.equal((await auditOf(w, 'identity.status_changed')).filter((e) => (e.after as { status?: string }).status === 'suspended').length, 1);
      const [account] = await store.db.select().from(identities).where(eq(identities.handle, 'acme-sync'));
      assert.equal(account!.status, 'suspended');
    });

    // Deterministic on a server (PGlite has one connection, so nothing there can wait on a lock).
    if (backend === 'postgres') {
      it('an engagement being started waits for a contract end being moved, and is then held to the new end', async () => {
        await createIdentity(await w.as('ivan'), { handle: 'cora', displayName: 'Cora', kind: 'contractor', sponsor: 'sam' });
        // Another unit of work moving the end: it holds the vendor row as change-vendor-end does.
        const mover = await holdInTransaction(store, async (tx) => { await tx.select().from(vendors).where(eq(vendors.name, ACME)).for('update'); },
          async (tx) => { await tx.update(vendors).set({ contractEnd: new Date(later(10)) }).where(eq(vendors.name, ACME)); });
        const creating = createEngagement(await w.as('ada'), { identity: 'cora', vendor: ACME, businessFunction: 'Finance', purpose: 'Close',
          pattern: 'analyst', endsAt: later(30), dataSensitivity: 'internal', scope: ['payments'] });
        assert.ok(await stillWaiting(creating), 'the contract end is read under a share lock, so it waits');
        await mover.release();
        await refusedWith(creating, 'engagement.invalid_dates', 'endsAt');
      });

      it('a contract end being moved earlier waits for an engagement being started, then shortens it too', async () => {
        await createIdentity(await w.as('ivan'), { handle: 'cora', displayName: 'Cora', kind: 'contractor', sponsor: 'sam' });
        const [vendor] = await store.db.select().from(vendors).where(eq(vendors.name, ACME));
        const cora = await w.id('cora');
        const engagementId = newId();
        // Another unit of work starting an engagement: it read the contract end under a share lock, as create-engagement does.
        const starter = await holdInTransaction(store, async (tx) => {
          await tx.select().from(vendors).where(eq(vendors.id, vendor!.id)).for('share');
          await tx.insert(engagements).values({ id: engagementId, identityId: cora, vendorId: vendor!.id, sponsorId: await w.id('sam'),
            businessFunction: 'Finance', purpose: 'Close', pattern: 'analyst', startsAt: w.clock.now(), endsAt: new Date(later(50)),
            dataSensitivity: 'internal', scope: ['payments'], status: 'active', createdAt: w.clock.now() });
        });
        const moving = changeVendorEnd(await w.as('ivan'), { vendor: ACME, contractEnd: later(10), reason: 'shortened' });
        assert.ok(await stillWaiting(moving), 'the vendor row is taken for update, so it waits');
        await starter.release();
        assert.equal((await moving).engagementsShortened, 2, "Carl's and Cora's");
        const [row] = await store.db.select().from(engagements).where(eq(engagements.id, engagementId));
        assert.equal(row!.endsAt.toISOString(), later(10));
      });
    }

    it('an engagement started while the contract end moves earlier never ends after the new end', async () => {
      for (let round = 0; round < 4; round += 1) {
        const handle = `cora-${round}`;
        await createIdentity(await w.as('ivan'), { handle, displayName: `Cora ${round}`, kind: 'contractor', sponsor: 'sam' });
        const newEnd = later(40 - round);
        const outcomes = await Promise.allSettled([
          changeVendorEnd(await w.as('ivan'), { vendor: ACME, contractEnd: newEnd, reason: `round ${round}` }),
          createEngagement(await w.as('ada'), { identity: handle, vendor: ACME, businessFunction: 'Finance', purpose: 'Close',
            pattern: 'analyst', endsAt: later(50), dataSensitivity: 'internal', scope: ['payments'] }),
        ]);
        assert.equal(outcomes[0].status, 'fulfilled', String((outcomes[0] as PromiseRejectedResult).reason));
        // Either it waited for the new end and was refused by it, or it came first and was shortened to it.
        if (outcomes[1].status === 'rejected') assert.equal((outcomes[1].reason as TenureError).code, 'engagement.invalid_dates');
        const [vendor] = await store.db.select().from(vendors).where(eq(vendors.name, ACME));
        const active = await store.db.select().from(engagements).where(and(eq(engagements.vendorId, vendor!.id), eq(engagements.status, 'active')));
        for (const e of active) assert.ok(e.endsAt <= vendor!.contractEnd, `engagement ${e.id} ends ${e.endsAt.toISOString()} after ${vendor!.contractEnd.toISOString()}`);
      }
    });
  });
}
