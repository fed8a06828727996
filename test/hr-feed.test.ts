import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { and, eq, inArray } from 'drizzle-orm';
import { applyDueHrEvents } from '../src/jobs/hr.js';
import { decideHrBatch } from '../src/operations/decide-hr-batch.js';
import { importHrFile } from '../src/operations/import-hr-file.js';
import { listFindings } from '../src/operations/list-findings.js';
import { newId } from '../src/domain/ids.js';
import type { Store } from '../src/store/database.js';
import { entitlements, grants, identities } from '../src/store/schema.js';
import { hrEvents } from '../src/store/schema-hr.js';
import { refusedWith } from './support/assert.js';
import { BACKENDS, freshStore } from './support/backends.js';
import { applyHrPolicy, hrEvent, sendHr } from './support/hr.js';
import { buildWorld, DAY, HOUR, type World } from './support/world.js';

const person = async (w: World, employeeId: string) =>
  (await w.store.db.select().from(identities).where(eq(identities.employeeId, employeeId)))[0];
const liveGrants = async (w: World, identityId: string) => (await w.store.db.select({ key: entitlements.key, origin: grants.origin, endsAt: grants.endsAt })
  .from(grants).innerJoin(entitlements, eq(entitlements.id, grants.entitlementId))
  .where(and(eq(grants.identityId, identityId), inArray(grants.status, ['scheduled', 'active'])))).sort((a, b) => a.key.localeCompare(b.key));
const findingsOf = async (w: World, kind: string) => (await listFindings(await w.as('selma'), { status: 'open' })).filter((f) => f.kind === kind);

const finance = { name: 'Fay Finance', email: 'fay@example.com', department: 'Finance', title: 'Analyst', employment_class: 'employee' };

for (const backend of BACKENDS) {
  describe(`HR feed: joiners, replays, order and sources (${backend})`, () => {
    let store: Store;
    let w: World;
    before(async () => { store = await freshStore(backend); w = await buildWorld(store); await applyHrPolicy(w); });
    after(async () => { await store?.close(); });

    it('a hire creates the person with the birthright their attributes give, without approval, recorded as birthright', async () => {
      const result = await sendHr(w, [hrEvent(w, 'hire', 'E100', finance)]);
      assert.equal(result.summary.hired, 1);
      const fay = await person(w, 'E100');
      assert.deepEqual({ handle: fay?.handle, kind: fay?.kind, status: fay?.status, department: fay?.department }, 
        { handle: 'fay', kind: 'employee', status: 'active', department: 'Finance' });
      assert.deepEqual(await liveGrants(w, fay!.id), [
        { key: 'crm/read', origin: 'birthright', endsAt: null }, { key: 'payments/read', origin: 'birthright', endsAt: null }]);
    });

    it('a replayed event changes nothing, and an event id seen before with other content is refused', async () => {
      const hire = hrEvent(w, 'hire', 'E101', { ...finance, name: 'Rex Replay', email: 'rex@example.com' });
      await sendHr(w, [hire]);
      const replay = await sendHr(w, [hire]);
      assert.deepEqual({ replayed: replay.summary.replayed, applied: replay.summary.applied, hired: replay.summary.hired }, { replayed: 1, applied: 0, hired: 0 });
      assert.equal((await w.store.db.select().from(identities).where(eq(identities.employeeId, 'E101'))).length, 1);
      await refusedWith(sendHr(w, [{ ...hire, attributes: { ...hire.attributes, department: 'Sales' } }]), 'hr.event_id_reused', 'events');
      assert.equal((await person(w, 'E101'))?.department, 'Finance');
    });

    it('events of one person apply in effective order: an older change arriving after a newer one is superseded', async () => {
      w.clock.advance(DAY);
      const t = w.clock.now().getTime();
      await sendHr(w, [hrEvent(w, 'change', 'E100', { title: 'Payments Clerk' }, { effective_at: new Date(t - HOUR).toISOString() })]);
      const stale = await sendHr(w, [hrEvent(w, 'change', 'E100', { title: 'Intern' }, { effective_at: new Date(t - 2 * HOUR).toISOString() })]);
      assert.equal(stale.summary.superseded, 1);
      const fay = await person(w, 'E100');
      assert.equal(fay?.title, 'Payments Clerk');
      assert.ok((await liveGrants(w, fay!.id)).some((g) => g.key === 'payments/initiate' && g.origin === 'birthright'));
    });

    it('a hire effective in the future waits, and the worker applies it when the day comes', async () => {
      const start = new Date(w.clock.now().getTime() + 2 * DAY).toISOString();
      const result = await sendHr(w, [hrEvent(w, 'hire', 'E102', { name: 'Fred Future', department: 'Sales' }, { effective_at: start })]);
      assert.equal(result.summary.scheduled, 1);
      assert.equal(await person(w, 'E102'), undefined);
      assert.equal(await applyDueHrEvents(w.worker), 0);
      w.clock.advance(2 * DAY);
      assert.equal(await applyDueHrEvents(w.worker), 1);
      const fred = await person(w, 'E102');
      assert.deepEqual((await liveGrants(w, fred!.id)).map((g) => g.key), ['crm/read']);
      const [row] = await w.store.db.select().from(hrEvents).where(eq(hrEvents.employeeId, 'E102'));
      assert.equal(row?.status, 'applied');
    });

    it('two sources describing one person become one identity, matched by email; a disagreement is a finding, not an overwrite', async () => {
      const merged = await sendHr(w, [hrEvent(w, 'hire', 'B-7', { name: 'Fay Finance', email: 'FAY@example.com', department: 'Sales' }, { source: 'bamboo' })]);
      assert.equal(merged.summary.hired, 0);
      assert.equal(merged.summary.conflicts, 1);
      assert.equal((await w.store.db.select().from(identities).where(eq(identities.displayName, 'Fay Finance'))).length, 1);
      assert.equal((await person(w, 'E100'))?.department, 'Finance', 'neither source wins silently');
      const [conflict] = await findingsOf(w, 'hr_source_conflict');
      assert.match(conflict!.summary, /bamboo says department .* 'Sales', workday says 'Finance'/);
    });

    it('a person whose attributes match no access profile gets no birthright, and a finding says so', async () => {
      await sendHr(w, [hrEvent(w, 'hire', 'E103', { name: 'Una Unmatched', department: 'Facilities' })]);
      const una = await person(w, 'E103');
      assert.deepEqual(await liveGrants(w, una!.id), []);
      assert.ok((await findingsOf(w, 'hr_attributes_unmatched')).some((f) => f.identity === 'una.unmatched' || f.summary.includes('Facilities')));
    });

    it('access outside the approved path is refused by the database itself', async () => {
      const [read] = await w.store.db.select().from(entitlements).where(eq(entitlements.key, 'crm/read'));
      await assert.rejects(w.store.db.insert(grants).values({ id: newId(), identityId: await w.id('eve'), entitlementId: read!.id, origin: 'request',
        startsAt: w.clock.now(), endsAt: null, status: 'active', provisioningState: 'pending', createdAt: w.clock.now() }),
      (error: Error) => /grants_origin_ck/.test(`${error.message} ${(error.cause as Error | undefined)?.message}`));
    });

    it('a CSV dry run shows what would change and changes nothing; the import then does it, and a second import replays', async () => {
      const csv = ['employee_id,type,effective_at,name,email,department,title',
        `E200,hire,${w.clock.now().toISOString()},Cleo Csv,cleo@example.com,Finance,Payments Clerk`,
        `E201,hire,${w.clock.now().toISOString()},Sid Sales,sid@example.com,Sales,Rep`].join('\n');
      const dry = await importHrFile(await w.as('ivan'), { csv, source: 'workday', dryRun: true });
      assert.equal(dry.summary.hired, 2);
      assert.ok(dry.changes.some((c) => c.person === 'cleo' && c.effects.some((e) => e.includes('payments/initiate'))));
      assert.equal(await person(w, 'E200'), undefined, 'a dry run writes nothing');
      const real = await importHrFile(await w.as('ivan'), { csv, source: 'workday' });
      assert.deepEqual({ hired: real.summary.hired, granted: real.summary.birthrightGranted }, { hired: 2, granted: 4 });
      assert.equal((await importHrFile(await w.as('ivan'), { csv, source: 'workday' })).summary.replayed, 2);
    });

    it('a bad row is refused naming its line and column, and nothing in the file is applied', async () => {
      const csv = ['employee_id,type,effective_at,name', `E300,hire,${w.clock.now().toISOString()},Ok Person`, 'E301,hire,yesterday,Bad Date'].join('\n');
      const error = await refusedWith(importHrFile(await w.as('ivan'), { csv, source: 'workday' }), 'input.invalid');
      assert.match(error.message, /line 3: effective_at/);
      assert.equal(await person(w, 'E300'), undefined);
      await refusedWith(importHrFile(await w.as('ivan'), { csv: 'employee_id,kind\nE1,hire', source: 'workday' }), 'hr.csv_invalid');
    });

    it('only IAM or the HR integration sends events; a contractor is refused', async () => {
      await refusedWith(sendHr(w, [hrEvent(w, 'hire', 'E999', { name: 'Nope' })], 'carl'), 'actor.forbidden');
    });

    it('a source the policy does not name is refused at its field', async () => {
      await applyHrPolicy(w, { sources: ['workday'] });
      await refusedWith(sendHr(w, [hrEvent(w, 'hire', 'X1', { name: 'Xavier' }, { source: 'legacy' })]), 'hr.unknown_source', 'events.0.source');
      await applyHrPolicy(w);
    });
  });

  describe(`HR feed: the suspension brake (${backend})`, () => {
    let store: Store;
    let w: World;
    before(async () => {
      store = await freshStore(backend); w = await buildWorld(store); await applyHrPolicy(w);
      await sendHr(w, ['A', 'B', 'C', 'D'].map((n) => hrEvent(w, 'hire', `E-${n}`, { name: `Person ${n}`, department: 'Sales' })));
    });
    after(async () => { await store?.close(); });

    it('a batch that would suspend more than the share is held whole until security confirms, and says so', async () => {
      const leaves = ['A', 'B', 'C'].map((n) => hrEvent(w, 'leave', `E-${n}`));
      const held = await sendHr(w, [...leaves, hrEvent(w, 'change', 'E-D', { title: 'Lead' })]);
      assert.equal(held.held?.wouldSuspend, 3);
      assert.equal(held.summary.applied, 0);
      assert.equal((await person(w, 'E-A'))?.status, 'active', 'nothing applied while held');
      assert.equal((await person(w, 'E-D'))?.title, null, 'the whole batch waits, not only its leaves');
      assert.equal((await findingsOf(w, 'hr_feed_held')).length, 1);
      await refusedWith(decideHrBatch(await w.as('ivan'), { batch: held.held!.batchId!, decision: 'confirm', reason: 'looks fine' }), 'actor.forbidden');
      const confirmed = await decideHrBatch(await w.as('selma'), { batch: held.held!.batchId!, decision: 'confirm', reason: 'the reorg is real' });
      assert.equal(confirmed.summary.leavers, 3);
      assert.equal((await person(w, 'E-A'))?.status, 'suspended');
      assert.equal((await person(w, 'E-D'))?.title, 'Lead');
      assert.equal((await findingsOf(w, 'hr_feed_held')).length, 0);
      await refusedWith(decideHrBatch(await w.as('selma'), { batch: held.held!.batchId!, decision: 'discard', reason: 'again' }), 'hr.batch_decided');
    });

    it('a discarded batch applies nothing, and a dry run that would trip the brake says so without holding anything', async () => {
      await sendHr(w, ['E', 'F', 'G'].map((n) => hrEvent(w, 'hire', `E-${n}`, { name: `Person ${n}`, department: 'Sales' })));
      const leaves = ['E', 'F', 'G'].map((n) => hrEvent(w, 'leave', `E-${n}`));
      const dry = await sendHr(w, leaves, 'ivan', true);
      assert.equal(dry.held?.batchId, null);
      const held = await sendHr(w, leaves);
      await decideHrBatch(await w.as('selma'), { batch: held.held!.batchId!, decision: 'discard', reason: 'broken export' });
      assert.equal((await person(w, 'E-E'))?.status, 'active');
    });
  });
}
