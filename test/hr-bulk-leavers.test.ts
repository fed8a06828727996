import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { asc, eq, gt, sql } from 'drizzle-orm';
import { createRequest } from '../src/operations/create-request.js';
import { createToken } from '../src/operations/create-token.js';
import { HrEventInput, toEventData } from '../src/operations/ingest-hr-events.js';
import { applyHrEvent } from '../src/operations/lib/hr/apply.js';
import { birthrightCatalogue } from '../src/operations/lib/hr/birthright.js';
import { inEffectiveOrder, newRun, processChunk } from '../src/operations/lib/hr/process.js';
import { loadAppliedPolicy } from '../src/policy/applied.js';
import type { Store } from '../src/store/database.js';
import { accessRequests, auditEvents, entitlements, grants, identities } from '../src/store/schema.js';
import { hrEvents, hrRecords } from '../src/store/schema-hr.js';
import { findings, provisioningJobs } from '../src/store/schema-provisioning.js';
import { apiTokens } from '../src/store/schema-service.js';
import { inTransaction } from '../src/work/context.js';
import { BACKENDS, freshStore } from './support/backends.js';
import { applyHrPolicy, hrEvent, sendHr } from './support/hr.js';
import { buildWorld, DAY, type World } from './support/world.js';

/**
 * Ann, Ben, Cal and Dee work in Finance or Sales; Dee sponsors Kit, a contractor (so Dee's leave goes
 * one by one, between the others'); Ann holds a token and a pending request.
 */
const hrWorld = async (store: Store): Promise<World> => {
  const w = await buildWorld(store);
  // No brake here: the leaves of this test are most of the organisation.
  await applyHrPolicy(w, { brake: { share: '100%', minimum: 0 } });
  const hire = (id: string, name: string, attrs: Record<string, string>) => hrEvent(w, 'hire', id, { name, email: `${name.toLowerCase()}@example.com`, ...attrs });
  await sendHr(w, [hire('E-ANN', 'Ann', { department: 'Finance' }), hire('E-BEN', 'Ben', { department: 'Finance', title: 'Payments Clerk' }),
    hire('E-CAL', 'Cal', { department: 'Sales' }), hire('E-DEE', 'Dee', { department: 'Finance' }),
    hire('E-KIT', 'Kit', { department: 'Finance', employment_class: 'contractor', manager: 'E-DEE' })]);
  await createToken(await w.as('ann'), { name: 'laptop', scopes: ['read'] });
  await createRequest(await w.as('ann'), { entitlement: 'lab/use', justification: 'experiments', duration: '7d' });
  return w;
};

const eventData = (e: ReturnType<typeof hrEvent>) => toEventData(HrEventInput.parse(e));
const auditSeq = async (w: World) => Number((await w.store.db.execute(sql`SELECT seq FROM audit_head`) as unknown as { rows: { seq: string }[] }).rows[0]!.seq);

/** Every audit event after `since`, per person in chain order, with ids replaced by handles (or dropped) and seq, time and actor left out. */
const auditByPerson = async (w: World, since: number) => {
  const people = await w.store.db.select({ id: identities.id, handle: identities.handle }).from(identities);
  const named = (text: string) => people.reduce((t, p) => t.replaceAll(p.id, p.handle), text).replace(/[0-9a-f]{8}-[0-9a-f-]{27}/g, '<id>');
  const rows = await w.store.db.select().from(auditEvents).where(gt(auditEvents.seq, since)).orderBy(asc(auditEvents.seq));
  const byPerson = new Map<string, string[]>();
  for (const row of rows) {
    const body = JSON.parse(row.canonical) as Record<string, unknown>;
    for (const key of ['seq', 'at', 'actor']) delete body[key];
    const who = named(row.identityId ?? 'nobody');
    byPerson.set(who, [...(byPerson.get(who) ?? []), named(JSON.stringify(body))]);
  }
  return Object.fromEntries([...byPerson].sort(([a], [b]) => a.localeCompare(b)));
};

/** The rows the leaves change, by handle and key. */
const outcome = async (w: World) => {
  const db = w.store.db;
  const sorted = (rows: unknown[]) => rows.map((r) => JSON.stringify(r)).sort();
  return {
    people: sorted(await db.select({ h: identities.handle, s: identities.status }).from(identities)),
    grants: sorted(await db.select({ h: identities.handle, k: entitlements.key, s: grants.status, why: grants.endReason, p: grants.provisioningState })
      .from(grants).innerJoin(identities, eq(identities.id, grants.identityId)).innerJoin(entitlements, eq(entitlements.id, grants.entitlementId))),
    jobs: sorted(await db.select({ h: identities.handle, k: entitlements.key, a: provisioningJobs.action }).from(provisioningJobs)
      .innerJoin(grants, eq(grants.id, provisioningJobs.grantId)).innerJoin(identities, eq(identities.id, grants.identityId))
      .innerJoin(entitlements, eq(entitlements.id, grants.entitlementId))),
    requests: sorted(await db.select({ s: accessRequests.status, why: accessRequests.decisionReason }).from(accessRequests)),
    tokens: sorted(await db.select({ h: identities.handle, revoked: sql<boolean>`${apiTokens.revokedAt} IS NOT NULL` }).from(apiTokens)
      .innerJoin(identities, eq(identities.id, apiTokens.identityId))),
    findings: sorted(await db.select({ k: findings.kind, s: findings.summary, st: findings.status }).from(findings)),
    records: sorted(await db.select({ id: hrRecords.employeeId, at: hrRecords.effectiveAt, a: hrRecords.attributes }).from(hrRecords)),
  };
};

for (const backend of BACKENDS) {
  describe(`HR leavers in bulk (${backend})`, () => {
    const stores: Store[] = [];
    const world = async () => { const store = await freshStore(backend); stores.push(store); return hrWorld(store); };
    after(async () => { for (const store of stores) await store.close(); });
    let bulk: World;
    let single: World;
    let leaves: ReturnType<typeof hrEvent>[];
    let since: [number, number];
    before(async () => {
      [bulk, single] = [await world(), await world()];
      const now = bulk.clock.now().getTime();
      leaves = [hrEvent(bulk, 'leave', 'E-ANN'), hrEvent(bulk, 'leave', 'E-BEN'), hrEvent(bulk, 'leave', 'E-DEE'),
        hrEvent(bulk, 'leave', 'E-CAL', {}, { effective_at: new Date(now - 3 * DAY).toISOString() }), hrEvent(bulk, 'leave', 'E-NOBODY')];
      since = [await auditSeq(bulk), await auditSeq(single)];
    });

    it('ends the same things with the same audit events as one by one, a sponsor and a late leave among them', async () => {
      const sent = await sendHr(bulk, leaves);
      assert.deepEqual({ leavers: sent.summary.leavers, late: sent.summary.late, refused: sent.summary.refused }, { leavers: 4, late: 1, refused: 1 });
      // The same leaves, each through applyHrEvent, in one transaction.
      const outcomes = await inTransaction(await single.as('ivan'), async (work) => {
        const run = newRun(await loadAppliedPolicy(work.tx));
        run.catalogue = await birthrightCatalogue(work.tx);
        const applied = [];
        for (const event of inEffectiveOrder(leaves.map(eventData))) applied.push([event.eventId, (await applyHrEvent(work, run, event)).outcome]);
        return Object.fromEntries(applied);
      });
      const recorded = await bulk.store.db.select({ id: hrEvents.eventId, outcome: hrEvents.outcome }).from(hrEvents);
      assert.deepEqual(Object.fromEntries(recorded.filter((r) => r.id in outcomes).map((r) => [r.id, r.outcome])), outcomes);
      assert.deepEqual(await auditByPerson(bulk, since[0]), await auditByPerson(single, since[1]));
      assert.deepEqual(await outcome(bulk), await outcome(single));
      const ann = (await auditByPerson(bulk, since[0])).ann!;
      assert.deepEqual(ann.map((e) => (JSON.parse(e) as { action: string }).action), ['identity.status_changed', 'request.cancelled',
        'grant.revoked', 'grant.revoked', 'token.revoked', 'hr.event_applied']);
    });

    it('a replay of the same leaves changes nothing', async () => {
      const before = [await auditSeq(bulk), await outcome(bulk)];
      const again = await sendHr(bulk, leaves);
      assert.equal(again.summary.replayed, leaves.length);
      assert.deepEqual([await auditSeq(bulk), await outcome(bulk)], before);
    });

    it('a chunk of leaves that fails commits neither its changes nor their audit events', async () => {
      const w = await world();
      const seq = await auditSeq(w);
      const rows = await outcome(w);
      const events = ['E-ANN', 'E-BEN', 'E-CAL'].map((id) => eventData(hrEvent(w, 'leave', id)));
      await assert.rejects(inTransaction(await w.as('ivan'), async (work) => {
        await processChunk(work, newRun(await loadAppliedPolicy(work.tx)), events, () => false, null);
        throw new Error('the connection broke before commit');
      }), /broke before commit/);
      assert.deepEqual([await auditSeq(w), await outcome(w)], [seq, rows]);
    });
  });
}
