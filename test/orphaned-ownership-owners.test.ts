import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { changeIdentityStatus } from '../src/operations/change-identity-status.js';
import { createEngagement } from '../src/operations/create-engagement.js';
import { createVendor } from '../src/operations/create-vendor.js';
import { listFindings } from '../src/operations/list-findings.js';
import type { Store } from '../src/store/database.js';
import { BACKENDS, freshStore } from './support/backends.js';
import { buildWorld, DAY, type World } from './support/world.js';

/**
 * Issue 15, observation 3: a leaver with no manager on record left findings owned by nobody. Each
 * now goes to whoever else answers for the thing; only where nobody does is it security's and IAM's.
 */
for (const backend of BACKENDS) {
  describe(`what a leaver without a manager answered for is still someone's (${backend})`, () => {
    let store: Store;
    let w: World;
    before(async () => {
      store = await freshStore(backend);
      w = await buildWorld(store);
      const ada = await w.as('ada');
      await createVendor(ada, { name: 'Northwind Support', kind: 'managed_service_provider', relationshipOwner: 'olivia', contractEnd: '2030-12-31T00:00:00Z' });
      await createEngagement(ada, { identity: 'vera', vendor: 'Northwind Support', sponsor: 'tom', businessFunction: 'Operations', purpose: 'Night support',
        pattern: 'support', endsAt: new Date(w.clock.now().getTime() + 30 * DAY).toISOString(), dataSensitivity: 'internal', scope: ['crm'] });
      // Tom has no manager: he owns payments and crm (with Olivia), the bot, and sponsors Vera's engagement at Northwind (Olivia's vendor).
      await changeIdentityStatus(await w.as('ivan'), { identity: 'tom', status: 'terminated', reason: 'left the company' });
    });
    after(async () => { await store?.close(); });

    it('a system goes to its other owner, an engagement to its vendor\'s relationship owner, and only what nobody else answers for to no one', async () => {
      const orphaned = (await listFindings(await w.as('selma'), { status: 'open' })).filter((f) => f.kind === 'ownership_orphaned')
        .map((f) => `${(f.evidence as { subjectType: string; label: string }).subjectType} ${(f.evidence as { label: string }).label} → ${f.owner ?? 'nobody'}`).sort();
      assert.deepEqual(orphaned, [
        'engagement Night support → olivia',
        'service_account bot → nobody',
        'system crm → olivia',
        'system payments → olivia',
      ]);
    });
  });
}
