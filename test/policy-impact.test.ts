import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { parse, stringify } from 'yaml';
import type { TenureError } from '../src/domain/errors.js';
import { createIdentity } from '../src/operations/create-identity.js';
import { createRequest } from '../src/operations/create-request.js';
import { planPolicy } from '../src/operations/plan-policy.js';
import { BACKENDS, freshStore } from './support/backends.js';
import { changedTables, databaseDigest } from './support/db-digest.js';
import { grantThrough } from './support/flows.js';
import { buildWorld, DAY, LIFECYCLE_POLICY, type World } from './support/world.js';

/**
 * `policy plan --impact` says what a candidate policy would do to what exists now, before anyone
 * applies it: grants longer than the new maximum, people who would newly hold a conflict, birthright
 * gained or lost, pending requests whose approvers change. It writes nothing.
 */
type Doc = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- a YAML document edited in place

const candidate = (): string => {
  const doc = parse(readFileSync(LIFECYCLE_POLICY, 'utf8')) as Doc;
  doc.durations.standard.default = '2d';
  doc.separation_of_duties.push({ name: 'read-split', entitlements: ['payments/read', 'crm/read'] });
  doc.access_profiles = { finance: { match: { department: ['Finance'] }, entitlements: ['payments/read'] } };
  doc.approval.system_owner = 'business';
  return stringify(doc);
};

for (const backend of BACKENDS) {
  describe(`policy plan --impact shows what a change does to what exists, changing nothing (${backend})`, () => {
    let w: World;
    let carlsGrant: string;
    let pending: string;
    const plan = async (as: string) => planPolicy(await w.as(as), { files: [{ name: 'policy.yaml', content: candidate() }] }, { impact: true });

    before(async () => {
      w = await buildWorld(await freshStore(backend));
      const ask = (entitlement: string) => ({ entitlement, justification: 'work', ticket: 'T-1', duration: '7d' });
      carlsGrant = await grantThrough(w, 'carl', ask('payments/initiate'), ['sam', 'olivia']);
      await grantThrough(w, 'eve', ask('payments/read'), ['sam', 'olivia']);
      await grantThrough(w, 'eve', ask('crm/read'), ['sam', 'olivia']);
      await createIdentity(await w.as('ada'), { handle: 'fay', displayName: 'Fay Finance', kind: 'employee', department: 'Finance' });
      pending = (await createRequest(await w.as('carl'), ask('payments/read'))).id;
      w.clock.advance(DAY);
    });
    after(async () => { await w?.store.close(); });

    it('lists the grant longer than the new maximum, the new conflict, the birthright gained and the re-routed stage, and writes nothing', async () => {
      const before = await databaseDigest(w.store);
      const { impact, changed } = await plan('ada');
      assert.ok(changed);
      assert.deepEqual(impact!.grantsOutlasting.map((g) => [g.grantId, g.identity, g.entitlement, g.newMaximum]),
        [[carlsGrant, 'carl', 'payments/initiate', 2 * DAY]], 'only the grant with more than two days left');
      assert.deepEqual(impact!.newSodConflicts, [{ identity: 'eve', rule: 'read-split' }]);
      assert.deepEqual(impact!.birthrightGained, [{ identity: 'fay', entitlement: 'payments/read' }]);
      assert.deepEqual(impact!.birthrightLost, []);
      assert.deepEqual(impact!.requestsRerouted, [{ requestId: pending, stage: 'system_owner', from: ['olivia', 'tom'], to: ['olivia'] }],
        "the owner stage still to come moves to the business owner alone; the sponsor stage keeps Sam");
      assert.deepEqual(changedTables(before, await databaseDigest(w.store)), []);
    });

    it('someone who may read policy but not apply it sees the plan, not the impact', async () => {
      const audrey = await w.as('audrey');
      assert.equal((await planPolicy(audrey, { files: [{ name: 'policy.yaml', content: candidate() }] })).impact, undefined);
      await assert.rejects(plan('audrey'), (e: TenureError) => e.code === 'actor.forbidden');
    });
  });
}
