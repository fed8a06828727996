import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { sql } from 'drizzle-orm';
import { nextLifecycleDue, runLifecycleTick } from '../src/jobs/lifecycle.js';
import { cancelRequest } from '../src/operations/cancel-request.js';
import { changeIdentityStatus } from '../src/operations/change-identity-status.js';
import { createIdentity } from '../src/operations/create-identity.js';
import { showRequest } from '../src/operations/list-requests.js';
import { revokeGrant } from '../src/operations/revoke-grant.js';
import { rawRows } from '../src/store/database.js';
import { refusedWith } from './support/assert.js';
import { BACKENDS, freshStore } from './support/backends.js';
import { grantThrough } from './support/flows.js';
import { applyPolicyText } from './support/provisioning-world.js';
import { generateKeyPair } from './support/sshd.js';
import { askFor, LINE_APPROVERS, sharedAccountPolicy, type LineKeys } from './support/shared-account-line.js';
import { buildWorld, HOUR, type World } from './support/world.js';

/**
 * Issue 18: a shared account's waiting line. A check-out asked for a length of time and fully
 * approved while someone holds the account waits in line (`queued`), is given by the worker pass
 * when the account comes free, and leaves the line by withdrawal, by the person leaving, or at the
 * request's own expiry. No target is needed: the line is Tenure's alone.
 */
const APPROVERS = LINE_APPROVERS;
const MINUTE = 60_000;

for (const backend of BACKENDS) {
  describe(`a shared account's waiting line (${backend})`, () => {
    let w: World;
    let dir: string;
    let keys: LineKeys;
    before(async () => {
      dir = mkdtempSync(join(tmpdir(), 'tenure-queue-'));
      keys = { ca: generateKeyPair(dir, 'ca'), upstream: generateKeyPair(dir, 'upstream') };
      w = await buildWorld(await freshStore(backend));
      await applyPolicyText(w, sharedAccountPolicy(dir, keys));
    });
    after(async () => {
      await w?.store.close();
      rmSync(dir, { recursive: true, force: true });
    });

    const ask = (handle: string, duration: string, entitlement = 'bastion/ops') => askFor(w, handle, duration, entitlement);
    const requestRow = async (id: string) => (await rawRows<{ status: string; grant_id: string | null; decision_reason: string | null }>(w.store.db,
      sql`SELECT status, grant_id, decision_reason FROM access_requests WHERE id = ${id}`))[0]!;
    const grantRow = async (id: string) => (await rawRows<{ handle: string; starts_at: Date | string; ends_at: Date | string; status: string }>(w.store.db, sql`
      SELECT i.handle, g.starts_at, g.ends_at, g.status FROM grants g JOIN identities i ON i.id = g.identity_id WHERE g.id = ${id}`))[0]!;
    const iso = (t: Date | string) => new Date(t).toISOString();

    it('queues a check-out while the account is held, and gives it at the first pass after the check-in, its clock starting then', async () => {
      const held = await grantThrough(w, 'carl', { entitlement: 'bastion/ops', justification: 'maintenance', duration: '2h' }, APPROVERS);
      const waiting = await ask('eve', '1h');
      assert.deepEqual({ status: waiting.status, grant: waiting.grantId, position: waiting.queue?.position, holder: waiting.queue?.holder?.handle },
        { status: 'queued', grant: null, position: 1, holder: 'carl' });
      assert.equal((await runLifecycleTick(w.worker)).checkOutsGiven, 0, 'nothing is given while carl holds it');
      w.clock.advance(20 * MINUTE);
      await revokeGrant(await w.as('carl'), { grant: held, reason: 'checked in' });
      assert.ok((await nextLifecycleDue(w.worker))!.getTime() <= w.clock.now().getTime(), 'the check-in makes the line due at once');
      assert.equal((await runLifecycleTick(w.worker)).checkOutsGiven, 1);
      const given = await requestRow(waiting.id);
      assert.equal(given.status, 'approved');
      const grant = await grantRow(given.grant_id!);
      assert.deepEqual([grant.handle, grant.status, iso(grant.starts_at), iso(grant.ends_at)],
        ['eve', 'active', w.clock.now().toISOString(), new Date(w.clock.now().getTime() + HOUR).toISOString()]);
      await revokeGrant(await w.as('eve'), { grant: given.grant_id!, reason: 'checked in' });
    });

    it('puts a check-out approved after the check-in but before the pass behind those already waiting: nobody jumps the line', async () => {
      await createIdentity(await w.as('ada'), { handle: 'late', displayName: 'late', kind: 'employee', manager: 'sam' });
      const held = await grantThrough(w, 'carl', { entitlement: 'bastion/ops', justification: 'maintenance', duration: '2h' }, APPROVERS);
      const first = await ask('eve', '1h');
      await revokeGrant(await w.as('carl'), { grant: held, reason: 'checked in' });
      const late = await ask('late', '1h');
      assert.deepEqual({ status: late.status, position: late.queue?.position, holder: late.queue?.holder }, { status: 'queued', position: 2, holder: null });
      assert.equal((await runLifecycleTick(w.worker)).checkOutsGiven, 1);
      const given = await requestRow(first.id);
      assert.deepEqual([(await grantRow(given.grant_id!)).handle, (await requestRow(late.id)).status], ['eve', 'queued']);
      await revokeGrant(await w.as('eve'), { grant: given.grant_id!, reason: 'checked in' });
      assert.equal((await runLifecycleTick(w.worker)).checkOutsGiven, 1);
      const next = await requestRow(late.id);
      assert.equal((await grantRow(next.grant_id!)).handle, 'late');
      await revokeGrant(await w.as('late'), { grant: next.grant_id!, reason: 'checked in' });
    });

    it('refuses, not queues, a booking for a window the holder has, naming them', async () => {
      const held = await grantThrough(w, 'carl', { entitlement: 'bastion/ops', justification: 'maintenance', duration: '2h' }, APPROVERS);
      const at = (minutes: number) => new Date(w.clock.now().getTime() + minutes * MINUTE).toISOString();
      await createIdentity(await w.as('ada'), { handle: 'booker', displayName: 'booker', kind: 'employee', manager: 'sam' });
      const refused = await refusedWith(grantThrough(w, 'booker', { entitlement: 'bastion/ops', justification: 'window', startsAt: at(30), endsAt: at(90) }, APPROVERS),
        'shared_account.checked_out');
      assert.match(refused.message, /checked out by carl/);
      await revokeGrant(await w.as('carl'), { grant: held, reason: 'checked in' });
    });

    it('serves the line in order: someone who withdraws leaves it, and a leaver\'s place is cancelled with their other requests', async () => {
      for (const handle of ['ops-a', 'ops-b']) await createIdentity(await w.as('ada'), { handle, displayName: handle, kind: 'employee', manager: 'sam' });
      const held = await grantThrough(w, 'carl', { entitlement: 'bastion/ops', justification: 'maintenance', duration: '2h' }, APPROVERS);
      const first = await ask('eve', '1h');
      const second = await ask('ops-a', '1h');
      const third = await ask('ops-b', '1h');
      assert.deepEqual([first, second, third].map((d) => d.queue?.position), [1, 2, 3]);
      // Each sees their place now, as the line moves: read when asked, never a stale copy.
      const placeOf = async (handle: string, id: string) => (await showRequest(await w.as(handle), id)).queuePlace;
      assert.deepEqual([await placeOf('eve', first.id), await placeOf('ops-a', second.id), await placeOf('ops-b', third.id)], [1, 2, 3]);
      assert.equal((await cancelRequest(await w.as('eve'), { request: first.id, reason: 'not needed' })).status, 'cancelled');
      assert.deepEqual([await placeOf('eve', first.id), await placeOf('ops-b', third.id)], [null, 2], 'a withdrawn request has no place; those behind move up');
      await changeIdentityStatus(await w.as('ada'), { identity: 'ops-a', status: 'terminated', reason: 'left the company' });
      assert.equal((await requestRow(second.id)).status, 'cancelled', 'ops-a left: the place is given up');
      assert.equal(await placeOf('ops-b', third.id), 1);
      await revokeGrant(await w.as('carl'), { grant: held, reason: 'checked in' });
      assert.equal((await runLifecycleTick(w.worker)).checkOutsGiven, 1);
      const given = await requestRow(third.id);
      assert.equal((await grantRow(given.grant_id!)).handle, 'ops-b');
      await revokeGrant(await w.as('ops-b'), { grant: given.grant_id!, reason: 'checked in' });
    });

    it('ends a queued check-out that a rule made since forbids, saying which, and gives the account to the next in line', async () => {
      await createIdentity(await w.as('ada'), { handle: 'ops-c', displayName: 'ops-c', kind: 'employee', manager: 'sam' });
      assert.equal((await ask('eve', '8h', 'payments/initiate')).status, 'approved');
      const held = await grantThrough(w, 'carl', { entitlement: 'bastion/ops', justification: 'maintenance', duration: '2h' }, APPROVERS);
      const [eve, next] = [await ask('eve', '1h'), await ask('ops-c', '1h')];
      assert.deepEqual([eve.queue?.position, next.queue?.position], [1, 2]);
      await applyPolicyText(w, sharedAccountPolicy(dir, keys, true));
      await revokeGrant(await w.as('carl'), { grant: held, reason: 'checked in' });
      assert.equal((await runLifecycleTick(w.worker)).checkOutsGiven, 1);
      const lapsed = await requestRow(eve.id);
      assert.equal(lapsed.status, 'expired');
      assert.match(lapsed.decision_reason ?? '', /^not given when the account came free: bastion\/ops may not be held with payments\/initiate/);
      const given = await requestRow(next.id);
      assert.equal((await grantRow(given.grant_id!)).handle, 'ops-c');
      await revokeGrant(await w.as('ops-c'), { grant: given.grant_id!, reason: 'checked in' });
      await applyPolicyText(w, sharedAccountPolicy(dir, keys));
    });

    it('lets a queued check-out lapse at the request\'s expiry when the account never came free, and keeps it out of the holder\'s way', async () => {
      const held = await grantThrough(w, 'carl', { entitlement: 'bastion/ops', justification: 'maintenance', duration: '4h' }, APPROVERS);
      const waiting = await ask('eve', '1h');
      w.clock.advance(3 * HOUR + MINUTE);
      assert.equal((await runLifecycleTick(w.worker)).checkOutsGiven, 0);
      const lapsed = await requestRow(waiting.id);
      assert.deepEqual([lapsed.status, lapsed.grant_id, lapsed.decision_reason], ['expired', null, 'the shared account did not come free in time']);
      assert.equal((await grantRow(held)).status, 'active', 'carl still holds it');
      await revokeGrant(await w.as('carl'), { grant: held, reason: 'checked in' });
      assert.equal((await runLifecycleTick(w.worker)).checkOutsGiven, 0);
    });
  });
}
