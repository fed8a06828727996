import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { and, eq, inArray } from 'drizzle-orm';
import { DecisionService } from '../src/decision/service.js';
import { offboardPastEndDates, settleOrphanedOwnership } from '../src/jobs/hr.js';
import { createEngagement } from '../src/operations/create-engagement.js';
import { createIdentity } from '../src/operations/create-identity.js';
import { createRequest } from '../src/operations/create-request.js';
import { createToken } from '../src/operations/create-token.js';
import { listFindings } from '../src/operations/list-findings.js';
import { listReviewItems } from '../src/operations/list-review-items.js';
import { reassignOwnership } from '../src/operations/reassign-ownership.js';
import type { Store } from '../src/store/database.js';
import { accessRequests, engagements, entitlements, grants, identities } from '../src/store/schema.js';
import { apiTokens } from '../src/store/schema-service.js';
import { accessEvents } from '../src/store/schema-service.js';
import { newId } from '../src/domain/ids.js';
import { refusedWith } from './support/assert.js';
import { BACKENDS, freshStore } from './support/backends.js';
import { grantThrough } from './support/flows.js';
import { applyHrPolicy, hrEvent, sendHr } from './support/hr.js';
import { buildWorld, DAY, HOUR, type World } from './support/world.js';

const liveKeys = async (w: World, handle: string) => (await w.store.db.select({ key: entitlements.key, origin: grants.origin }).from(grants)
  .innerJoin(entitlements, eq(entitlements.id, grants.entitlementId))
  .where(and(eq(grants.identityId, await w.id(handle)), inArray(grants.status, ['scheduled', 'active']))))
  .map((g) => `${g.key}:${g.origin}`).sort();
const statusOf = async (w: World, handle: string) => (await w.store.db.select().from(identities).where(eq(identities.handle, handle)))[0]?.status;
type Evidence = Record<string, unknown> & { subjectType?: string; accessAllowedSinceLeaving?: unknown[]; grantsOpenMeanwhile?: unknown[] };
const openFindings = async (w: World, kind: string) => (await listFindings(await w.as('selma'), { status: 'open' }))
  .filter((f) => f.kind === kind).map((f) => ({ ...f, evidence: f.evidence as Evidence }));

/**
 * Bo manages Mia, Mia manages Finn and sponsors Cora (a contractor from the same feed, engaged on
 * payments) and owns a service account; everyone came through HR.
 */
const buildHrWorld = async (store: Store): Promise<World> => {
  const w = await buildWorld(store);
  await applyHrPolicy(w);
  const hire = (id: string, name: string, attrs: Record<string, string>) =>
    hrEvent(w, 'hire', id, { name, email: `${name.split(' ')[0]!.toLowerCase()}@example.com`, ...attrs });
  await sendHr(w, [
    hire('E-BO', 'Bo Boss', { department: 'Finance', title: 'Director' }),
    hire('E-MIA', 'Mia Manager', { department: 'Finance', title: 'Manager', manager: 'E-BO' }),
    hire('E-FINN', 'Finn Mover', { department: 'Finance', title: 'Payments Clerk', manager: 'E-MIA' }),
    hire('E-CORA', 'Cora Contractor', { department: 'Finance', employment_class: 'contractor', manager: 'E-MIA' }),
  ]);
  const ada = await w.as('ada');
  await createEngagement(ada, { identity: 'cora', vendor: 'Acme Integrators', sponsor: 'mia', businessFunction: 'Finance', purpose: 'Quarter close',
    pattern: 'analyst', endsAt: new Date(w.clock.now().getTime() + 60 * DAY).toISOString(), dataSensitivity: 'internal', scope: ['payments', 'crm'] });
  await createIdentity(ada, { handle: 'mia-bot', displayName: 'Mia\'s export bot', kind: 'service_account', owner: 'mia' });
  return w;
};

for (const backend of BACKENDS) {
  describe(`HR feed: movers and leavers (${backend})`, () => {
    let store: Store;
    let w: World;
    let decisions: DecisionService;
    before(async () => {
      store = await freshStore(backend); w = await buildHrWorld(store);
      decisions = await DecisionService.start({ store, clock: w.clock, poll: false });
    });
    after(async () => { await decisions?.stop(); await store?.close(); });

    it('a contractor from the feed is sponsored by their manager and gets birthright once engaged, to the engagement\'s end', async () => {
      const [cora] = await w.store.db.select().from(identities).where(eq(identities.handle, 'cora'));
      assert.deepEqual({ kind: cora?.kind, sponsor: cora?.sponsorId }, { kind: 'contractor', sponsor: await w.id('mia') });
      assert.deepEqual(await liveKeys(w, 'cora'), ['crm/read:birthright', 'payments/read:birthright']);
      const ends = await w.store.db.select({ endsAt: grants.endsAt }).from(grants).where(eq(grants.identityId, cora!.id));
      assert.ok(ends.every((g) => g.endsAt?.getTime() === w.clock.now().getTime() + 60 * DAY), 'birthright of a non-employee ends with the engagement');
    });

    it('a transfer made before HR catches up: the new team\'s access asked for by request is reviewed by the new manager, birthright follows HR', async () => {
      await grantThrough(w, 'finn', { entitlement: 'lab/use', justification: 'joining the lab team next week', duration: '30d' }, ['mia', 'sam']);
      assert.deepEqual(await liveKeys(w, 'finn'), ['crm/read:birthright', 'lab/use:request', 'payments/initiate:birthright', 'payments/read:birthright']);
      const moved = await sendHr(w, [hrEvent(w, 'change', 'E-FINN', { department: 'Sales', title: 'Rep', manager: 'E-BO' })]);
      assert.equal(moved.summary.movers, 1);
      assert.deepEqual(await liveKeys(w, 'finn'), ['crm/read:birthright', 'lab/use:request'],
        'payments birthright no longer matches; crm/read is Sales birthright too; requested access stays until reviewed');
      const items = await listReviewItems(await w.as('bo'));
      assert.deepEqual(items.map((i) => [i.holder, i.evidence.entitlement, i.trigger]), [['finn', 'lab/use', 'mover']]);
    });

    it('a leaver is suspended at once: grants revoked, requests cancelled, tokens ended, and the decision point denies', async () => {
      await createToken(await w.as('mia'), { name: 'laptop', scopes: ['read'] });
      await createRequest(await w.as('mia'), { entitlement: 'lab/use', justification: 'experiments', duration: '7d' });
      await decisions.sync();
      assert.equal(decisions.check({ identity: 'mia', entitlement: 'payments/read' }).decision, 'allow');
      const left = await sendHr(w, [hrEvent(w, 'leave', 'E-MIA')]);
      assert.equal(left.summary.leavers, 1);
      assert.equal(await statusOf(w, 'mia'), 'suspended');
      assert.deepEqual(await liveKeys(w, 'mia'), []);
      const mia = await w.id('mia');
      const pending = await w.store.db.select().from(accessRequests).where(and(eq(accessRequests.beneficiaryId, mia), eq(accessRequests.status, 'pending')));
      assert.deepEqual(pending, []);
      const tokens = await w.store.db.select().from(apiTokens).where(eq(apiTokens.identityId, mia));
      assert.ok(tokens.every((t) => t.revokedAt !== null));
      await decisions.sync();
      assert.equal(decisions.check({ identity: 'mia', entitlement: 'payments/read' }).decision, 'deny');
    });

    it('what the leaver answered for becomes findings routed to their manager, due within the window', async () => {
      const orphaned = await openFindings(w, 'ownership_orphaned');
      assert.deepEqual(orphaned.map((f) => f.evidence.subjectType).sort(), ['engagement', 'service_account', 'sponsorship']);
      assert.ok(orphaned.every((f) => f.owner === 'bo' && f.dueAt!.getTime() === w.clock.now().getTime() + 14 * DAY));
    });

    it('during the window the contractor keeps running grants but gets nothing new (sponsor_inactive)', async () => {
      await refusedWith(createRequest(await w.as('cora'), { entitlement: 'payments/approve', justification: 'quarter close', duration: '7d' }),
        'identity.sponsor_inactive');
    });

    it('re-assigning closes the findings; only IAM or the leaver\'s manager may do it', async () => {
      await refusedWith(reassignOwnership(await w.as('finn'), { from: 'mia', to: 'finn', reason: 'I will take it' }), 'actor.forbidden');
      await refusedWith(reassignOwnership(await w.as('bo'), { from: 'mia', to: 'cora', reason: 'x' }), 'identity.reassign_invalid', 'to');
      const moved = await reassignOwnership(await w.as('bo'), { from: 'mia', to: 'bo', reason: 'I sponsor Cora until the project ends' });
      assert.deepEqual({ sponsored: moved.sponsored, serviceAccounts: moved.serviceAccounts, resolved: moved.findingsResolved },
        { sponsored: 1, serviceAccounts: 1, resolved: 3 });
      w.clock.advance(15 * DAY);
      assert.deepEqual(await settleOrphanedOwnership(w.worker), { resolved: 0, suspended: 0 });
      assert.equal(await statusOf(w, 'cora'), 'active');
    });
  });

  describe(`HR feed: sponsors who leave with nobody taking over, late terminations, end dates (${backend})`, () => {
    let store: Store;
    let w: World;
    before(async () => { store = await freshStore(backend); w = await buildHrWorld(store); });
    after(async () => { await store?.close(); });

    it('an offboarding review asks the leaver\'s manager about the access of the contractors they sponsored', async () => {
      await grantThrough(w, 'cora', { entitlement: 'payments/approve', justification: 'quarter close', duration: '7d' }, ['mia', 'olivia']);
      await sendHr(w, [hrEvent(w, 'leave', 'E-MIA')]);
      const items = await listReviewItems(await w.as('bo'));
      assert.deepEqual(items.map((i) => `${i.holder} ${i.evidence.entitlement} ${i.trigger} ${i.undecided}`).sort(),
        ['cora crm/read offboarding revoke', 'cora payments/approve offboarding revoke', 'cora payments/read offboarding revoke']);
    });

    it('after the window, a contractor still without a sponsor is suspended and the finding closes', async () => {
      w.clock.advance(13 * DAY);
      assert.equal((await settleOrphanedOwnership(w.worker)).suspended, 0);
      assert.equal(await statusOf(w, 'cora'), 'active');
      w.clock.advance(2 * DAY);
      const settled = await settleOrphanedOwnership(w.worker);
      assert.equal(settled.suspended, 1);
      assert.equal(await statusOf(w, 'cora'), 'suspended');
      assert.deepEqual((await openFindings(w, 'ownership_orphaned')).map((f) => f.evidence.subjectType).sort(), ['engagement', 'service_account']);
    });

    it('findings whose subject found an owner some other way, or is gone, close at the next pass', async () => {
      const open = await openFindings(w, 'ownership_orphaned');
      const account = open.find((f) => f.evidence.subjectType === 'service_account')!;
      await w.store.db.update(identities).set({ ownerId: await w.id('bo') }).where(eq(identities.id, account.evidence.subjectId as string));
      const engagement = open.find((f) => f.evidence.subjectType === 'engagement')!;
      await w.store.db.update(engagements).set({ status: 'ended' }).where(eq(engagements.id, engagement.evidence.subjectId as string));
      assert.deepEqual(await settleOrphanedOwnership(w.worker), { resolved: 2, suspended: 0 });
      assert.deepEqual(await openFindings(w, 'ownership_orphaned'), []);
    });

    it('a termination that arrives late is applied at once, and a finding shows what stayed open meanwhile', async () => {
      const effective = new Date(w.clock.now().getTime() - 3 * DAY);
      const [read] = await w.store.db.select().from(grants).innerJoin(entitlements, eq(entitlements.id, grants.entitlementId))
        .where(and(eq(grants.identityId, await w.id('finn')), eq(entitlements.key, 'payments/read')));
      await w.store.db.insert(accessEvents).values({ id: newId(), at: new Date(effective.getTime() + DAY), identityId: await w.id('finn'),
        entitlementKey: 'payments/read', systemKey: 'payments', action: 'select', allowed: true, reason: 'grant_active', grantId: read!.grants.id, context: {} });
      const result = await sendHr(w, [hrEvent(w, 'leave', 'E-FINN', {}, { effective_at: effective.toISOString() })]);
      assert.equal(result.summary.late, 1);
      assert.equal(await statusOf(w, 'finn'), 'suspended');
      const [late] = await openFindings(w, 'late_termination');
      assert.equal(late!.evidence.accessAllowedSinceLeaving?.length, 1);
      assert.equal(late!.evidence.grantsOpenMeanwhile?.length, 3);
    });

    it('a contractor whose HR end date passes is offboarded by the worker', async () => {
      await sendHr(w, [hrEvent(w, 'hire', 'E-TIM', { name: 'Tim Temp', email: 'tim@example.com', employment_class: 'contractor', manager: 'E-BO',
        end_date: new Date(w.clock.now().getTime() + 2 * HOUR).toISOString() })]);
      assert.equal(await offboardPastEndDates(w.worker), 0);
      w.clock.advance(3 * HOUR);
      assert.equal(await offboardPastEndDates(w.worker), 1);
      assert.equal(await statusOf(w, 'tim'), 'suspended');
    });

    it('a rehire brings the person back active, with birthright but not their old tokens', async () => {
      const rehired = await sendHr(w, [hrEvent(w, 'hire', 'E-FINN', { department: 'Sales' })]);
      assert.equal(rehired.summary.rehired, 1);
      assert.equal(await statusOf(w, 'finn'), 'active');
      assert.deepEqual(await liveKeys(w, 'finn'), ['crm/read:birthright']);
    });
  });
}
