import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { eq, sql } from 'drizzle-orm';
import { changeVendorEnd } from '../src/operations/change-vendor-end.js';
import { createIdentity } from '../src/operations/create-identity.js';
import { createVendor } from '../src/operations/create-vendor.js';
import { rawRows, type Store } from '../src/store/database.js';
import { identities, vendors } from '../src/store/schema.js';
import { refusedWith } from './support/assert.js';
import { BACKENDS, freshStore } from './support/backends.js';
import { changedTables, databaseDigest } from './support/db-digest.js';
import { startService, type Service } from './support/service.js';
import type { World } from './support/world.js';

const ACME = 'Acme Integrators';
const GLOBEX = 'Globex Support';
const MIGRATION_0020 = new URL('../src/store/migrations/0020_service_account_vendor_link.sql', import.meta.url);

/** A write the database itself refuses by the new check constraint (the driver's error is the cause of drizzle's). */
const refusedByCheck = (query: Promise<unknown>) => assert.rejects(query,
  (error: Error) => /identities_service_account_vendor_ck/.test(`${error.message} ${(error.cause as Error | undefined)?.message}`));

for (const backend of BACKENDS) {
  describe(`a service account's one vendor is its operator (${backend})`, () => {
    let s: Service;
    let w: World;
    let store: Store;
    beforeEach(async () => {
      s = await startService(await freshStore(backend, { poolSize: 6 }));
      w = s.world;
      store = w.store;
      await createVendor(await w.as('ada'), { name: GLOBEX, kind: 'managed_service_provider', relationshipOwner: 'sam', contractEnd: '2030-12-31T00:00:00Z' });
    });
    afterEach(async () => { await s.app.close(); await store.close(); });

    const row = async (handle: string) => (await store.db.select().from(identities).where(eq(identities.handle, handle)))[0]!;
    const vendorId = async (name: string) => (await store.db.select().from(vendors).where(eq(vendors.name, name)))[0]!.id;
    const endContract = async (name: string) => changeVendorEnd(await w.as('ivan'), { vendor: name, contractEnd: '2029-12-31T00:00:00Z', reason: 'contract over' });
    const account = async (handle: string, links: { vendor?: string; operatedBy?: string; owner?: string }) =>
      createIdentity(await w.as('ivan'), { handle, displayName: handle, kind: 'service_account', owner: 'tom', ...links });
    /** Fails with the tables written to when `attempt` wrote anything. */
    const writesNothing = async (attempt: () => Promise<unknown>) => {
      const before = await databaseDigest(store);
      await attempt();
      assert.deepEqual(changedTables(before, await databaseDigest(store)), []);
    };

    it("a service account created with vendor (not operatedBy) is operated by it, and the vendor's end suspends it", async () => {
      await account('acme-sync', { vendor: ACME });
      assert.deepEqual([(await row('acme-sync')).vendorId, (await row('acme-sync')).operatedByVendorId], [null, await vendorId(ACME)]);
      const ended = await endContract(ACME);
      assert.equal(ended.accountsSuspended, 1);
      assert.equal((await row('acme-sync')).status, 'suspended');
    });

    it('a vendor and a different operatedBy are refused with identity.vendor_conflict naming vendor, and nothing is written; the same vendor twice is one link', async () => {
      await writesNothing(async () => refusedWith(account('twin-sync', { vendor: GLOBEX, operatedBy: ACME }), 'identity.vendor_conflict', 'vendor'));
      await account('twin-sync', { vendor: await vendorId(ACME), operatedBy: ACME });
      assert.equal((await row('twin-sync')).operatedByVendorId, await vendorId(ACME));
    });

    it("the database refuses a service account's vendor_id even from a direct UPDATE, and migration 0020 moves an old one to its operator", async () => {
      const acme = await vendorId(ACME);
      await refusedByCheck(store.db.execute(sql`UPDATE identities SET vendor_id = ${acme} WHERE handle = 'bot'`));
      await store.db.execute(sql`UPDATE identities SET vendor_id = ${acme} WHERE handle = 'carl'`);
      // A database from before 0020: the constraint is not there, and a service account carries vendor_id.
      await store.db.execute(sql`ALTER TABLE identities DROP CONSTRAINT identities_service_account_vendor_ck`);
      await store.db.execute(sql`UPDATE identities SET vendor_id = ${acme} WHERE handle = 'bot'`);
      for (const statement of readFileSync(MIGRATION_0020, 'utf8').split('--> statement-breakpoint')) await store.db.execute(sql.raw(statement));
      const moved = await rawRows<{ handle: string; vendor_id: string | null; operated_by_vendor_id: string | null }>(store.db,
        sql`SELECT handle, vendor_id, operated_by_vendor_id FROM identities WHERE handle IN ('bot', 'carl') ORDER BY handle`);
      assert.deepEqual(moved, [{ handle: 'bot', vendor_id: null, operated_by_vendor_id: acme }, { handle: 'carl', vendor_id: acme, operated_by_vendor_id: null }]);
      await refusedByCheck(store.db.execute(sql`UPDATE identities SET vendor_id = ${acme} WHERE handle = 'bot'`));
    });
  });
}
