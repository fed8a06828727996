import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { parse, stringify } from 'yaml';
import { sql, type SQL } from 'drizzle-orm';
import { DecisionService } from '../src/decision/service.js';
import { changeIdentityStatus } from '../src/operations/change-identity-status.js';
import { createEngagement } from '../src/operations/create-engagement.js';
import { createIdentity } from '../src/operations/create-identity.js';
import { createRequest } from '../src/operations/create-request.js';
import { createVendor } from '../src/operations/create-vendor.js';
import { resolveFilters } from '../src/operations/lib/audit-filters.js';
import { searchAudit } from '../src/operations/search-audit.js';
import { rawRows, type Store } from '../src/store/database.js';
import { refusedWith } from './support/assert.js';
import { BACKENDS, freshStore } from './support/backends.js';
import { grantThrough } from './support/flows.js';
import { applyHrPolicy, hrEvent, sendHr } from './support/hr.js';
import { applyPolicyText } from './support/provisioning-world.js';
import { startService, type Service } from './support/service.js';
import { LIFECYCLE_POLICY, type World } from './support/world.js';

const UUID_SHAPED = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const MIGRATION_0014 = new URL('../src/store/migrations/0014_handles_not_uuid_shaped.sql', import.meta.url);

type Table = 'identities' | 'vendors' | 'systems';
/** Inserts a copy of one row with some columns changed, straight into the table: how a row made before the rules looks. */
const copyRow = (store: Store, table: Table, from: SQL, changes: Record<string, unknown>) => store.db.execute(sql`
  INSERT INTO ${sql.raw(table)} SELECT (jsonb_populate_record(null::${sql.raw(table)}, to_jsonb(t) || ${JSON.stringify(changes)}::jsonb)).*
    FROM ${sql.raw(table)} t WHERE ${from}`);
/** A database from before migration 0014: UUID-shaped handles are allowed again. */
const allowUuidHandles = (store: Store) => store.db.execute(sql`ALTER TABLE identities DROP CONSTRAINT IF EXISTS identities_handle_not_uuid_ck`);
const statusOf = async (store: Store, id: string) =>
  (await rawRows<{ status: string; handle: string }>(store.db, sql`SELECT status, handle FROM identities WHERE id = ${id}`))[0];

for (const backend of BACKENDS) {
  describe(`a reference names exactly one thing (${backend})`, () => {
    let s: Service;
    let w: World;
    let store: Store;
    before(async () => { s = await startService(await freshStore(backend)); w = s.world; store = w.store; });
    after(async () => { await s.app.close(); await store.close(); });

    it('creating an identity whose handle is another identity\'s id is refused through the API and the use case, and creates nothing', async () => {
      const carl = await w.id('carl');
      const count = async () => (await rawRows<{ n: number }>(store.db, sql`SELECT count(*)::int AS n FROM identities`))[0]!.n;
      const before = await count();
      const res = await s.call('POST', '/v1/identities', { as: 'ada', body: { handle: carl, displayName: 'Twin', kind: 'employee', manager: 'sam' } });
      assert.equal(res.statusCode, 400, res.body);
      assert.deepEqual([res.json().code, res.json().field], ['input.invalid', 'handle']);
      await refusedWith(createIdentity(await w.as('ada'), { handle: randomUUID(), displayName: 'Twin', kind: 'employee', manager: 'sam' }),
        'input.invalid', 'handle');
      assert.equal(await count(), before);
      await assert.rejects(copyRow(store, 'identities', sql`handle = 'eve'`, { id: randomUUID(), handle: carl, email: null }),
        'the database refuses a UUID-shaped handle too');
    });

    it('a person may not be called like a shared account (admin, shared-ops, test.user), by API or use case; a service account may', async () => {
      const count = async () => (await rawRows<{ n: number }>(store.db, sql`SELECT count(*)::int AS n FROM identities`))[0]!.n;
      const before = await count();
      for (const handle of ['admin', 'shared-ops', 'test.user']) {
        const res = await s.call('POST', '/v1/identities', { as: 'ada', body: { handle, displayName: 'Ops', kind: 'contractor', sponsor: 'sam' } });
        assert.equal(res.statusCode, 422, res.body);
        assert.deepEqual([res.json().code, res.json().field], ['identity.shared_handle', 'handle']);
        assert.match(res.json().detail, /shared_account_patterns.*service_account/);
      }
      await refusedWith(createIdentity(await w.as('ada'), { handle: 'root', displayName: 'Root', kind: 'employee' }), 'identity.shared_handle', 'handle');
      assert.equal(await count(), before, 'nothing was created');
      await createIdentity(await w.as('ada'), { handle: 'shared-ops', displayName: 'Ops robot', kind: 'service_account', owner: 'sam' });
      await createIdentity(await w.as('ada'), { handle: 'testa', displayName: 'Testa Rossa', kind: 'employee' });
    });

    it('an HR hire whose e-mail local part is another identity\'s id gets a handle that is not UUID-shaped, and the id still names the other', async () => {
      await applyHrPolicy(w);
      const olivia = await w.id('olivia');
      const email = `${olivia}@example.com`;
      const result = await sendHr(w, [hrEvent(w, 'hire', 'E9001', { name: 'Uma Uuid', email, department: 'Sales' })]);
      assert.equal(result.summary.hired, 1);
      const [hired] = await rawRows<{ handle: string }>(store.db, sql`SELECT handle FROM identities WHERE email = ${email}`);
      assert.ok(hired && !UUID_SHAPED.test(hired.handle), `HR chose the handle ${hired?.handle}`);
      const res = await s.call('GET', `/v1/identities/${olivia}`, { as: 'eve' });
      assert.equal(res.json().handle, 'olivia');
      // Two events of one person in a batch take the one-by-one path rather than the bulk hire.
      const tom = await w.id('tom');
      const one = await sendHr(w, [hrEvent(w, 'hire', 'E9002', { name: 'Uli Uuid', email: `${tom}@example.com`, department: 'Sales' }),
        hrEvent(w, 'change', 'E9002', { title: 'Account Manager' })]);
      assert.equal(one.summary.hired, 1);
      const [second] = await rawRows<{ handle: string }>(store.db, sql`SELECT handle FROM identities WHERE email = ${`${tom}@example.com`}`);
      assert.ok(second && !UUID_SHAPED.test(second.handle), `HR chose the handle ${second?.handle}`);
    });

    it('with a twin already in the database whose handle is another person\'s id, suspending by that id suspends exactly that person', async () => {
      await allowUuidHandles(store);
      const intended = randomUUID();
      const twin = randomUUID();
      // The twin is written first, so a lookup matching either row meets the twin first.
      await copyRow(store, 'identities', sql`handle = 'eve'`, { id: twin, handle: intended, email: null });
      await copyRow(store, 'identities', sql`handle = 'eve'`, { id: intended, handle: 'intended', email: null });
      await changeIdentityStatus(await w.as('ada'), { identity: intended, status: 'suspended', reason: 'reference test' });
      assert.deepEqual(await statusOf(store, intended), { status: 'suspended', handle: 'intended' });
      assert.deepEqual(await statusOf(store, twin), { status: 'active', handle: intended });
      const shown = await s.call('GET', `/v1/identities/${intended}`, { as: 'eve' });
      assert.equal(shown.json().handle, 'intended');
    });

    it('migration 0014 renames a UUID-shaped handle made before it, and that identity can still be suspended by its new handle', async () => {
      await allowUuidHandles(store);
      const old = randomUUID();
      const id = randomUUID();
      await copyRow(store, 'identities', sql`handle = 'eve'`, { id, handle: old, email: null });
      for (const statement of readFileSync(MIGRATION_0014, 'utf8').split('--> statement-breakpoint')) await store.db.execute(sql.raw(statement));
      assert.deepEqual(await statusOf(store, id), { status: 'active', handle: `renamed-${old}` });
      const left = await rawRows<{ handle: string }>(store.db, sql`SELECT handle FROM identities`);
      assert.deepEqual(left.filter((r) => UUID_SHAPED.test(r.handle)), [], 'no UUID-shaped handle is left');
      await changeIdentityStatus(await w.as('ada'), { identity: `renamed-${old}`, status: 'suspended', reason: 'reference test' });
      assert.equal((await statusOf(store, id))?.status, 'suspended');
      await assert.rejects(copyRow(store, 'identities', sql`id = ${id}`, { id: randomUUID(), handle: randomUUID() }), 'the constraint is back');
    });

    it('a vendor named like an id is refused, and with such a twin in the database an engagement by the id links exactly that vendor', async () => {
      const [acme] = await rawRows<{ id: string }>(store.db, sql`SELECT id FROM vendors WHERE name = 'Acme Integrators'`);
      await refusedWith(createVendor(await w.as('ada'), { name: acme!.id, kind: 'system_integrator', relationshipOwner: 'sam', contractEnd: '2030-12-31T00:00:00Z' }),
        'input.invalid', 'name');
      const intended = randomUUID();
      await copyRow(store, 'vendors', sql`id = ${acme!.id}`, { id: randomUUID(), name: intended });
      await copyRow(store, 'vendors', sql`id = ${acme!.id}`, { id: intended, name: 'Intended Vendor' });
      const engagement = await createEngagement(await w.as('ada'), {
        identity: 'vera', vendor: intended, businessFunction: 'Finance', purpose: 'Reference test', pattern: 'system_integrator',
        endsAt: new Date(w.clock.now().getTime() + 30 * 86_400_000).toISOString(), dataSensitivity: 'internal', scope: ['crm'],
      });
      const [row] = await rawRows<{ vendor_id: string }>(store.db, sql`SELECT vendor_id FROM engagements WHERE id = ${engagement.id}`);
      assert.equal(row!.vendor_id, intended);
    });

    it('a system keyed like an id is refused by the policy, and with such a twin in the database an audit search by the id reads exactly that system', async () => {
      const doc = parse(readFileSync(LIFECYCLE_POLICY, 'utf8')) as { systems: Record<string, unknown> };
      doc.systems[randomUUID()] = doc.systems.lab;
      await refusedWith(applyPolicyText(w, stringify(doc)), 'policy.invalid');
      await grantThrough(w, 'eve', { entitlement: 'payments/read', justification: 'reference test', duration: '1d' }, ['sam', 'olivia']);
      const [payments] = await rawRows<{ id: string }>(store.db, sql`SELECT id FROM systems WHERE key = 'payments'`);
      await copyRow(store, 'systems', sql`id = ${payments!.id}`, { id: randomUUID(), key: payments!.id, name: 'Twin of payments' });
      const found = await searchAudit(await w.as('audrey'), { system: payments!.id });
      assert.ok(found.events.length > 0, 'the events of payments are found');
      assert.deepEqual([...new Set(found.events.map((e) => e.systemId))], [payments!.id]);
      // And a system made after its twin (the twin's row first): the id still names it, not the twin.
      const intended = randomUUID();
      await copyRow(store, 'systems', sql`id = ${payments!.id}`, { id: randomUUID(), key: intended, name: 'Twin first' });
      await copyRow(store, 'systems', sql`id = ${payments!.id}`, { id: intended, key: 'intended', name: 'Intended system' });
      assert.equal((await resolveFilters(store.db, { system: intended })).systemId, intended);
    });

    it('the decision point reads a UUID-shaped identity reference as an id only, even with a twin handle in its index', async () => {
      await allowUuidHandles(store);
      const carl = await w.id('carl');
      const nobody = randomUUID();
      await copyRow(store, 'identities', sql`handle = 'carl'`, { id: randomUUID(), handle: carl, email: null, employee_id: null });
      await copyRow(store, 'identities', sql`handle = 'carl'`, { id: randomUUID(), handle: nobody, email: null, employee_id: null });
      const decisions = await DecisionService.start({ store, clock: w.clock, poll: false });
      try {
        assert.equal(decisions.check({ identity: nobody, entitlement: 'payments/read' }).reason, 'unknown_identity',
          'a UUID that is no identity\'s id names nobody, whatever handle holds it');
        assert.deepEqual(decisions.check({ identity: carl, entitlement: 'payments/read' }), decisions.check({ identity: 'carl', entitlement: 'payments/read' }));
      } finally {
        await decisions.stop();
      }
    });

    it('an entitlement reference that is neither an id nor a key is refused as input naming the field, never a database error', async () => {
      await refusedWith(createRequest(await w.as('carl'), { entitlement: 'payments', justification: 'x', duration: '1h' }), 'input.invalid', 'entitlement');
      const res = await s.call('POST', '/v1/requests', { as: 'carl', body: { entitlement: 'not-a-uuid', justification: 'x', duration: '1h' } });
      assert.equal(res.statusCode, 400, res.body);
      assert.equal(res.json().code, 'input.invalid');
      assert.equal(res.json().field, 'entitlement');
      const unknown = await s.call('POST', '/v1/requests', { as: 'carl', body: { entitlement: 'payments/nothing', justification: 'x', duration: '1h' } });
      assert.equal(unknown.statusCode, 404, 'a key that names nothing is still not found');
      assert.equal(unknown.json().code, 'entitlement.not_found');
    });
  });
}
