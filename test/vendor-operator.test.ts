import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { eq, sql } from 'drizzle-orm';
import { changeIdentityOperator } from '../src/operations/change-identity-operator.js';
import { changeIdentityStatus } from '../src/operations/change-identity-status.js';
import { changeVendorEnd } from '../src/operations/change-vendor-end.js';
import { createIdentity } from '../src/operations/create-identity.js';
import { createVendor } from '../src/operations/create-vendor.js';
import { rawRows, type Store } from '../src/store/database.js';
import { identities, vendors } from '../src/store/schema.js';
import { refusedWith } from './support/assert.js';
import { BACKENDS, freshStore } from './support/backends.js';
import { changedTables, databaseDigest } from './support/db-digest.js';
import { holdInTransaction, stillWaiting } from './support/held-lock.js';
import { auditOf } from './support/review-world.js';
import { startService, type Service } from './support/service.js';
import type { World } from './support/world.js';

const ACME = 'Acme Integrators';
const GLOBEX = 'Globex Support';
const MIGRATION_0020 = new URL('../src/store/migrations/0020_service_account_vendor_link.sql', import.meta.url);
const JSON_BODY = { 'content-type': 'application/json' };

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
    const setOperator = async (as: string, vendor: string | null, identity = 'acme-sync', reason = 'moved to another supplier') =>
      changeIdentityOperator(await w.as(as), { identity, vendor, reason });
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

    it("IAM moves a service account to another vendor, audited with the reason: the new vendor's end suspends it and the old one's no longer does", async () => {
      await account('acme-sync', { operatedBy: ACME });
      const moved = await setOperator('ivan', GLOBEX);
      assert.deepEqual(moved, { id: (await row('acme-sync')).id, handle: 'acme-sync', operator: GLOBEX, previousOperator: ACME, changed: true });
      const [event] = await auditOf(w, 'identity.operator_changed');
      assert.deepEqual([event!.before, event!.after, event!.reason],
        [{ operatedByVendorId: await vendorId(ACME) }, { operatedByVendorId: await vendorId(GLOBEX) }, 'moved to another supplier']);
      assert.equal((await endContract(ACME)).accountsSuspended, 0);
      assert.equal((await row('acme-sync')).status, 'active');
      assert.equal((await endContract(GLOBEX)).accountsSuspended, 1);
      assert.equal((await row('acme-sync')).status, 'suspended');
    });

    it('an account its vendor suspended, moved in-house, can be activated again; moving it where it already is writes nothing', async () => {
      await account('acme-sync', { operatedBy: ACME });
      await endContract(ACME);
      await refusedWith(changeIdentityStatus(await w.as('ivan'), { identity: 'acme-sync', status: 'active', reason: 'x' }), 'vendor.invalid_contract_end');
      assert.equal((await setOperator('ivan', null)).operator, null);
      await changeIdentityStatus(await w.as('ivan'), { identity: 'acme-sync', status: 'active', reason: 'run in-house now' });
      assert.equal((await row('acme-sync')).status, 'active');
      await writesNothing(async () => assert.equal((await setOperator('ivan', null)).changed, false));
    });

    it("nobody changes the operator of their own service account: its owner, even holding IAM, or the account itself, and that refusal comes first", async () => {
      await createIdentity(await w.as('ivan'), { handle: 'ivan-sync', displayName: 'Ivan sync', kind: 'service_account', owner: 'ivan', operatedBy: ACME });
      await account('acme-sync', { operatedBy: ACME });
      await writesNothing(async () => {
        await refusedWith(setOperator('ivan', GLOBEX, 'ivan-sync'), 'identity.operator_self_forbidden', 'identity');
        await refusedWith(setOperator('tom', null), 'identity.operator_self_forbidden', 'identity');
        await refusedWith(setOperator('acme-sync', null), 'identity.operator_self_forbidden', 'identity');
      });
    });

    it('a sponsor, a contractor or an auditor, without identity.change_operator, is refused and nothing is written', async () => {
      await account('acme-sync', { operatedBy: ACME });
      await writesNothing(async () => {
        for (const who of ['sam', 'carl', 'audrey']) await refusedWith(setOperator(who, GLOBEX), 'actor.forbidden');
      });
    });

    it('moving an account to a vendor whose contract has ended is refused naming vendor; a person has no operator to change', async () => {
      await account('acme-sync', { operatedBy: ACME });
      await endContract(GLOBEX);
      await writesNothing(async () => {
        await refusedWith(setOperator('ivan', GLOBEX), 'vendor.invalid_contract_end', 'vendor');
        await refusedWith(setOperator('ivan', ACME, 'carl'), 'vendor.not_operator', 'identity');
      });
    });

    it('over HTTP IAM moves an account; hostile input is a problem+json naming the field, and writes nothing', async () => {
      await account('acme-sync', { operatedBy: ACME });
      const post = (handle: string, body: unknown, as = 'ivan') =>
        s.call('POST', `/v1/identities/${handle}/operator`, { as, body: JSON.stringify(body), headers: JSON_BODY });
      for (const as of ['ivan', 'tom', 'sam']) await s.call('GET', '/v1/me', { as });
      const cases = [
        { handle: 'acme-sync', body: { vendor: 'Nobody Ltd', reason: 'x' }, status: 404, code: 'vendor.not_found', field: 'vendor' },
        { handle: 'acme-sync', body: { vendor: GLOBEX, reason: '  ' }, status: 400, code: 'input.invalid', field: 'reason' },
        { handle: 'acme-sync', body: { reason: 'x' }, status: 400, code: 'input.invalid', field: 'vendor' },
        { handle: 'acme-sync', body: { vendor: 42, reason: 'x' }, status: 400, code: 'input.invalid', field: 'vendor' },
        { handle: 'no-such-account', body: { vendor: GLOBEX, reason: 'x' }, status: 404, code: 'identity.not_found', field: 'identity' },
        { handle: 'bad%00handle', body: { vendor: GLOBEX, reason: 'x' }, status: 400, code: 'input.invalid', field: 'identity' },
        { handle: 'acme-sync', body: { vendor: GLOBEX, reason: 'x' }, as: 'tom', status: 403, code: 'identity.operator_self_forbidden', field: 'identity' },
        { handle: 'acme-sync', body: { vendor: GLOBEX, reason: 'x' }, as: 'sam', status: 403, code: 'actor.forbidden' },
      ];
      await writesNothing(async () => {
        for (const c of cases) {
          const res = await post(c.handle, c.body, c.as);
          const label = `${c.handle} ${JSON.stringify(c.body)} → ${res.body}`;
          assert.equal(res.statusCode, c.status, label);
          assert.match(String(res.headers['content-type']), /^application\/problem\+json/, label);
          assert.deepEqual([res.json().code, res.json().field], [c.code, c.field], label);
        }
      });
      const res = await post('acme-sync', { vendor: GLOBEX, reason: 'new supplier' });
      assert.equal(res.statusCode, 200, res.body);
      assert.deepEqual([res.json().operator, res.json().previousOperator, res.json().changed], [GLOBEX, ACME, true]);
    });

    // Deterministic on a server only: PGlite has one connection, so nothing there can wait on a lock.
    if (backend === 'postgres') {
      it('concurrent operator changes of one account queue: it ends at the last committed, with one audit event each, chained before to after', async () => {
        await account('acme-sync', { operatedBy: ACME });
        const targets = ['Initech', 'Umbrella', 'Hooli', 'Vandelay'];
        for (const name of targets) {
          await createVendor(await w.as('ada'), { name, kind: 'other', relationshipOwner: 'sam', contractEnd: '2030-12-31T00:00:00Z' });
        }
        const results = await Promise.all(targets.map((name) => setOperator('ivan', name)));
        assert.ok(results.every((r) => r.changed));
        const events = (await auditOf(w, 'identity.operator_changed')).sort((a, b) => a.seq - b.seq);
        assert.equal(events.length, targets.length);
        let current: unknown = await vendorId(ACME);
        for (const event of events) {
          assert.deepEqual(event.before, { operatedByVendorId: current });
          current = (event.after as { operatedByVendorId: string }).operatedByVendorId;
        }
        assert.equal((await row('acme-sync')).operatedByVendorId, current);
      });

      it("a move onto a vendor whose end is being carried out waits for it, then is refused: no active account is left under an ended vendor", async () => {
        await account('acme-sync', { operatedBy: ACME });
        // Another unit of work carrying out Globex's end: it holds the vendor row as lockVendorReach does.
        const ending = await holdInTransaction(store, async (tx) => { await tx.select().from(vendors).where(eq(vendors.name, GLOBEX)).for('update'); },
          async (tx) => { await tx.update(vendors).set({ endAppliedAt: w.clock.now() }).where(eq(vendors.name, GLOBEX)); });
        const moving = setOperator('ivan', GLOBEX);
        assert.ok(await stillWaiting(moving), 'the new vendor is read under a share lock, so the move waits');
        await ending.release();
        await refusedWith(moving, 'vendor.invalid_contract_end', 'vendor');
        assert.equal((await row('acme-sync')).operatedByVendorId, await vendorId(ACME));
      });
    }
  });
}
