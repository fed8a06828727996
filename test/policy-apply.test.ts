import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { asc, eq } from 'drizzle-orm';
import { ManualClock } from '../src/domain/clock.js';
import { newId } from '../src/domain/ids.js';
import type { IdentityKind, IdentityStatus } from '../src/domain/model.js';
import { applyPolicy } from '../src/operations/apply-policy.js';
import type { Context } from '../src/work/context.js';
import { planPolicy } from '../src/operations/plan-policy.js';
import { validatePolicy } from '../src/operations/validate-policy.js';
import { loadAppliedPolicy } from '../src/policy/applied.js';
import type { Store } from '../src/store/database.js';
import { auditEvents, entitlements, grants, identities, policyState, roleAssignments, systems } from '../src/store/schema.js';
import { refusedWith } from './support/assert.js';
import { BACKENDS, freshStore } from './support/backends.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const policy = (name: string) => fileURLToPath(new URL(`./fixtures/policy/${name}`, import.meta.url));
const BASE = policy('apply/base.yaml');

const PEOPLE: [string, IdentityKind, IdentityStatus?][] = [
  ['ada', 'employee'], ['sam', 'employee'], ['olivia', 'employee'], ['tom', 'employee'], ['selma', 'employee'],
  ['ivan', 'employee'], ['audrey', 'employee'], ['carl', 'contractor'], ['gone', 'employee', 'terminated'], ['bot', 'service_account'],
];

/** People written straight into the database, so these tests depend on nothing but the policy code. */
const seedPeople = async (store: Store, now: Date): Promise<Map<string, string>> => {
  const ids = new Map(PEOPLE.map(([handle]) => [handle, newId()]));
  await store.db.transaction(async (tx) => {
    await tx.insert(identities).values(PEOPLE.map(([handle, kind, status]) => ({
      id: ids.get(handle)!, handle, displayName: handle, kind, status: status ?? 'active',
      sponsorId: kind === 'contractor' ? ids.get('sam')! : null, ownerId: kind === 'service_account' ? ids.get('tom')! : null,
      createdAt: now, updatedAt: now,
    })));
    await tx.insert(roleAssignments).values({ identityId: ids.get('ada')!, role: 'admin', source: 'init' });
  });
  return ids;
};

/** Everything apply may write, to prove a refused apply wrote none of it. */
const stateOf = async (store: Store) => ({
  systems: await store.db.select().from(systems).orderBy(asc(systems.key)),
  entitlements: await store.db.select().from(entitlements).orderBy(asc(entitlements.key)),
  roles: await store.db.select().from(roleAssignments).orderBy(asc(roleAssignments.identityId), asc(roleAssignments.role)),
  policy: await store.db.select().from(policyState),
  audit: await store.db.select({ seq: auditEvents.seq }).from(auditEvents),
});

const eventsOf = async (store: Store, action: string) =>
  (await store.db.select().from(auditEvents).where(eq(auditEvents.action, action)).orderBy(asc(auditEvents.seq)))
    .map((row) => ({ ...row, body: JSON.parse(row.canonical) as { data: Record<string, unknown> } }));

for (const backend of BACKENDS) {
  describe(`policy plan and apply (${backend})`, () => {
    let store: Store;
    let ids: Map<string, string>;
    const clock = new ManualClock('2030-01-01T09:00:00.000Z');
    const as = (handle: string): Context => ({ store, clock, actor: { id: ids.get(handle)!, channel: 'cli', osUser: 'test' } });

    beforeEach(async () => { store = await freshStore(backend); ids = await seedPeople(store, clock.now()); });
    afterEach(async () => { await store.close(); });

    it('a plan against an empty database lists every system, entitlement, role and setting as an addition', async () => {
      const result = await planPolicy(as('ada'), { path: BASE });
      assert.equal(result.changed, true);
      assert.equal(result.previousDigest, null);
      assert.ok(result.lines.some((l) => l.startsWith('+ system payments (Payments platform; high; owners olivia, tom)')));
      assert.ok(result.lines.includes('+ entitlement payments/admin (Database administrator; privileged, at most 4h)'));
      assert.ok(result.lines.includes('+ role security: selma'));
      assert.ok(result.lines.includes('+ setting durations.privileged.default: 8h'));
      assert.deepEqual({ ...result.summary }, {
        systemsAdded: 2, systemsChanged: 0, systemsRetired: 0, entitlementsAdded: 5, entitlementsChanged: 0,
        entitlementsRetired: 0, rolesAdded: 4, rolesRemoved: 0, settingsChanged: result.plan.settings.length,
        total: 11 + result.plan.settings.length,
      });
      assert.equal((await stateOf(store)).systems.length, 0, 'a plan writes nothing');
    });

    it('loading the applied policy before any apply is refused with policy.not_applied', async () => {
      await refusedWith(loadAppliedPolicy(store.db), 'policy.not_applied');
    });

    it('apply writes the catalogue, the policy roles and the document the lifecycle reads, then a plan has nothing to change', async () => {
      const applied = await applyPolicy(as('ada'), { path: BASE });
      assert.equal(applied.changed, true);
      const state = await stateOf(store);
      assert.deepEqual(state.systems.map((s) => [s.key, s.businessOwnerId === ids.get('olivia'), s.retired]), [['crm', true, false], ['payments', true, false]]);
      const admin = state.entitlements.find((e) => e.key === 'payments/admin')!;
      assert.equal(admin.tier, 'privileged');
      assert.equal(admin.maxDurationMs, 4 * HOUR);
      assert.equal(admin.systemId, state.systems.find((s) => s.key === 'payments')!.id);
      const roles = state.roles.map((r) => `${[...ids].find(([, id]) => id === r.identityId)![0]}:${r.role}:${r.source}`).sort();
      assert.deepEqual(roles, ['ada:admin:init', 'ada:iam:policy', 'audrey:auditor:policy', 'ivan:iam:policy', 'selma:security:policy']);

      const doc = await loadAppliedPolicy(store.db);
      assert.deepEqual(doc.durations.privileged, { default: 8 * HOUR, employee: 24 * HOUR });
      assert.equal(doc.requests.pendingExpiresAfterMs, 7 * DAY);
      assert.equal(doc.approval.systemOwner, 'either');
      assert.deepEqual(doc.approval.alternates, { sponsor: [ids.get('selma')], system_owner: [ids.get('ivan')], security: [ids.get('ivan')] });
      assert.deepEqual(doc.separationOfDuties, [{ name: 'payments-maker-checker', entitlements: ['payments/initiate', 'payments/approve'],
        reason: 'one person must not both initiate and approve a payment' }]);
      const [row] = state.policy;
      assert.equal(row?.digest, applied.digest);
      assert.equal(row?.appliedBy, ids.get('ada'));

      const again = await planPolicy(as('ada'), { path: BASE });
      assert.equal(again.changed, false);
      assert.deepEqual(again.lines, []);
      assert.equal(again.previousDigest, applied.digest);
    });

    it('apply records policy.applied with the digest, the counts and the files, and one role.granted per new role holder', async () => {
      const applied = await applyPolicy(as('ada'), { path: BASE });
      const [event, ...more] = await eventsOf(store, 'policy.applied');
      assert.equal(more.length, 0);
      assert.equal(event!.actorId, ids.get('ada'));
      assert.equal(event!.subjectId, applied.digest);
      assert.equal(event!.body.data.digest, applied.digest);
      assert.deepEqual(event!.body.data.summary, applied.summary);
      assert.deepEqual(event!.body.data.files, [BASE]);
      assert.ok((event!.body.data.changes as string[]).includes('+ entitlement payments/read (Read-only reporting; read)'));
      const granted = await eventsOf(store, 'role.granted');
      assert.deepEqual(granted.map((e) => e.identityId).sort(), [ids.get('ada'), ids.get('audrey'), ids.get('ivan'), ids.get('selma')].sort());
    });

    it('applying the same policy again is allowed, changes nothing and records policy.applied with no changes', async () => {
      const first = await applyPolicy(as('ada'), { path: BASE });
      const before = await stateOf(store);
      const second = await applyPolicy(as('selma'), { path: BASE });
      assert.equal(second.changed, false);
      assert.equal(second.summary.total, 0);
      assert.equal(second.previousDigest, first.digest);
      const after = await stateOf(store);
      assert.deepEqual(after.entitlements, before.entitlements);
      assert.deepEqual(after.roles, before.roles);
      const events = await eventsOf(store, 'policy.applied');
      assert.equal(events.length, 2);
      assert.deepEqual(events[1]!.body.data.changes, []);
      assert.equal((await eventsOf(store, 'role.granted')).length, 4);
    });

    it('a changed tier shows in the plan and is applied, keeping the entitlement id', async () => {
      await applyPolicy(as('ada'), { path: BASE });
      const [before] = await store.db.select().from(entitlements).where(eq(entitlements.key, 'crm/read'));
      const plan = await planPolicy(as('ada'), { path: policy('apply/tier-changed.yaml') });
      assert.deepEqual(plan.lines, ['~ entitlement crm/read tier: read → standard']);
      const applied = await applyPolicy(as('selma'), { path: policy('apply/tier-changed.yaml') });
      assert.equal(applied.summary.entitlementsChanged, 1);
      const [after] = await store.db.select().from(entitlements).where(eq(entitlements.key, 'crm/read'));
      assert.equal(after?.tier, 'standard');
      assert.equal(after?.id, before?.id);
      assert.equal((await planPolicy(as('ada'), { path: policy('apply/tier-changed.yaml') })).changed, false);
    });

    it('removing an entitlement that a live grant uses is refused and nothing is written', async () => {
      await applyPolicy(as('ada'), { path: BASE });
      const [admin] = await store.db.select().from(entitlements).where(eq(entitlements.key, 'payments/admin'));
      await store.db.insert(grants).values({
        id: newId(), identityId: ids.get('tom')!, entitlementId: admin!.id, origin: 'break_glass', startsAt: clock.now(),
        endsAt: new Date(clock.now().getTime() + HOUR), status: 'active', provisioningState: 'provisioned', createdAt: clock.now(),
      });
      const removed = policy('apply/entitlement-removed.yaml');
      const plan = await planPolicy(as('ada'), { path: removed });
      for (const line of ['- entitlement payments/admin (retired)', '- role iam: ivan', '~ system crm criticality: medium → high',
        '~ setting durations.privileged.default: 8h → 4h']) assert.ok(plan.lines.includes(line), `${line} in\n${plan.lines.join('\n')}`);
      const before = await stateOf(store);
      const error = await refusedWith(applyPolicy(as('ada'), { path: removed }), 'policy.entitlement_in_use');
      assert.match(error.message, /payments\/admin/);
      assert.deepEqual(await stateOf(store), before, 'a refused apply writes nothing, not even part of the plan');
    });

    it('an entitlement removed from the file with no live grant is retired, not deleted, and comes back under its key', async () => {
      await applyPolicy(as('ada'), { path: BASE });
      const [admin] = await store.db.select().from(entitlements).where(eq(entitlements.key, 'payments/admin'));
      await store.db.insert(grants).values({
        id: newId(), identityId: ids.get('tom')!, entitlementId: admin!.id, origin: 'break_glass', startsAt: clock.now(),
        endsAt: clock.now(), status: 'expired', provisioningState: 'deprovisioned', createdAt: clock.now(),
      });
      const removed = await applyPolicy(as('ada'), { path: policy('apply/entitlement-removed.yaml') });
      assert.equal(removed.summary.entitlementsRetired, 1);
      const [retired] = await store.db.select().from(entitlements).where(eq(entitlements.key, 'payments/admin'));
      assert.equal(retired?.retired, true);
      assert.equal(retired?.id, admin?.id);
      const roles = await store.db.select().from(roleAssignments).where(eq(roleAssignments.identityId, ids.get('ivan')!));
      assert.deepEqual(roles, []);
      assert.equal((await eventsOf(store, 'role.removed'))[0]?.identityId, ids.get('ivan'));
      assert.equal((await loadAppliedPolicy(store.db)).durations.privileged.default, 4 * HOUR);

      const restored = await applyPolicy(as('ada'), { path: BASE });
      assert.ok(restored.lines.includes('~ entitlement payments/admin retired: yes → no'), restored.lines.join('\n'));
      const [back] = await store.db.select().from(entitlements).where(eq(entitlements.key, 'payments/admin'));
      assert.equal(back?.id, admin?.id);
      assert.equal(back?.retired, false);
    });

    it('removing every policy role never touches the bootstrap admin', async () => {
      await applyPolicy(as('ada'), { path: BASE });
      await applyPolicy(as('ada'), { path: policy('valid') });
      const adaRoles = await store.db.select().from(roleAssignments).where(eq(roleAssignments.identityId, ids.get('ada')!));
      assert.deepEqual(adaRoles, [{ identityId: ids.get('ada'), role: 'admin', source: 'init' }]);
      const retiredSystem = await store.db.select().from(systems).where(eq(systems.key, 'crm'));
      assert.equal(retiredSystem[0]?.retired, true);
    });

    it('an actor who is neither admin nor security is refused with actor.forbidden', async () => {
      await refusedWith(applyPolicy(as('audrey'), { path: BASE }), 'actor.forbidden');
      await refusedWith(applyPolicy(as('sam'), { path: BASE }), 'actor.forbidden');
      await refusedWith(planPolicy(as('sam'), { path: BASE }), 'actor.forbidden');
      assert.deepEqual((await stateOf(store)).systems, []);
    });

    it('a policy naming an unknown, terminated or non-human identity is refused with policy.invalid naming file and line', async () => {
      const tmp = await mkdtemp(join(tmpdir(), 'tenure-apply-'));
      try {
        const file = join(tmp, 'people.yaml');
        const base = await readFile(BASE, 'utf8');
        await writeFile(file, base.replace('auditor: [audrey]', 'auditor: [nobody, gone]')
          .replace('technical_owner: tom\n    criticality: high', 'technical_owner: bot\n    criticality: high'));
        const error = await refusedWith(applyPolicy(as('ada'), { path: file }), 'policy.invalid');
        assert.match(error.message, /people\.yaml:7 roles\.auditor\[0\]: unknown identity 'nobody'/);
        assert.match(error.message, /people\.yaml:7 roles\.auditor\[1\]: 'gone' is terminated/);
        assert.match(error.message, /people\.yaml:28 systems\.payments\.technical_owner: 'bot' is a service account/);
        const validation = await validatePolicy(as('ada'), { path: file });
        assert.equal(validation.ok, false);
        assert.equal(validation.errors.length, 3);
        assert.equal((await stateOf(store)).systems.length, 0);
      } finally {
        await rm(tmp, { recursive: true });
      }
    });

    it('a service account may hold the checker role when named directly, and no other role, not even through a group', async () => {
      const tmp = await mkdtemp(join(tmpdir(), 'tenure-apply-'));
      try {
        const file = join(tmp, 'people.yaml');
        const base = await readFile(BASE, 'utf8');
        await writeFile(file, base.replace('auditor: [audrey]', 'auditor: [audrey]\n  checker: [bot]'));
        await applyPolicy(as('ada'), { path: file });
        const roles = await store.db.select().from(roleAssignments).where(eq(roleAssignments.identityId, ids.get('bot')!));
        assert.deepEqual(roles.map((r) => r.role), ['checker']);
        await writeFile(file, base.replace('auditor: [audrey]', 'auditor: [audrey, bot]'));
        const error = await refusedWith(applyPolicy(as('ada'), { path: file }), 'policy.invalid');
        assert.match(error.message, /roles\.auditor\[1\]: 'bot' is a service account: the policy may only name people/);
      } finally {
        await rm(tmp, { recursive: true });
      }
    });
  });
}
