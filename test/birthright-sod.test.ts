import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { and, eq, inArray } from 'drizzle-orm';
import { parse, stringify } from 'yaml';
import { listFindings } from '../src/operations/list-findings.js';
import { entitlements, grants, identities } from '../src/store/schema.js';
import { BACKENDS, freshStore } from './support/backends.js';
import { hrEvent, hrPolicy, sendHr } from './support/hr.js';
import { applyPolicyText } from './support/provisioning-world.js';
import { buildWorld, type World } from './support/world.js';

/**
 * Two access profiles that each pass validation can together give someone both sides of a
 * separation-of-duties rule. Birthright gives the first and withholds the other, for a hire and for a
 * mover alike, and IAM gets a finding: the profiles need fixing.
 */
const policy = () => {
  const doc = parse(hrPolicy()) as { access_profiles: Record<string, unknown> };
  doc.access_profiles['london-approvers'] = { match: { location: ['London'] }, entitlements: ['payments/approve'] };
  return stringify(doc);
};
const clerk = { department: 'Finance', title: 'Payments Clerk', employment_class: 'employee' };

for (const backend of BACKENDS) {
  describe(`birthright never hands out both sides of a rule, and says so (${backend})`, () => {
    let w: World;
    const sidesHeld = async (employeeId: string) => {
      const [who] = await w.store.db.select({ id: identities.id }).from(identities).where(eq(identities.employeeId, employeeId));
      return (await w.store.db.select({ key: entitlements.key }).from(grants).innerJoin(entitlements, eq(entitlements.id, grants.entitlementId))
        .where(and(eq(grants.identityId, who!.id), inArray(grants.status, ['scheduled', 'active'])))).map((g) => g.key)
        .filter((key) => key === 'payments/initiate' || key === 'payments/approve');
    };
    const withheld = async () => listFindings(await w.as('ivan'), { kind: 'birthright_withheld', status: 'open' });

    before(async () => { w = await buildWorld(await freshStore(backend)); await applyPolicyText(w, policy()); });
    after(async () => { await w?.store.close(); });

    it('a hire whom two profiles would give both sides gets one, and IAM a finding naming the other and the rule', async () => {
      const result = await sendHr(w, [hrEvent(w, 'hire', 'E1', { ...clerk, name: 'Lena London', email: 'lena@example.com', location: 'London' })]);
      assert.equal((await sidesHeld('E1')).length, 1);
      const [finding, ...more] = await withheld();
      assert.equal(more.length, 0);
      assert.equal(finding!.identity, 'lena');
      assert.match(finding!.summary, /payments-maker-checker/);
      assert.match(JSON.stringify(result), /birthright not granted \(separation of duties\)/);
    });

    it('a mover into the second profile keeps the side they hold and does not get the other', async () => {
      await sendHr(w, [hrEvent(w, 'hire', 'E2', { ...clerk, name: 'Paul Paris', email: 'paul@example.com', location: 'Paris' })]);
      assert.deepEqual(await sidesHeld('E2'), ['payments/initiate']);
      await sendHr(w, [hrEvent(w, 'change', 'E2', { location: 'London' })]);
      assert.deepEqual(await sidesHeld('E2'), ['payments/initiate']);
      assert.ok((await withheld()).some((f) => f.identity === 'paul' && /payments\/approve/.test(f.summary)), 'a finding for the withheld side');
    });
  });
}
