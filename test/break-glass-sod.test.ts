import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { parse, stringify } from 'yaml';
import { listBreakGlassReviews } from '../src/operations/list-break-glass-reviews.js';
import { listFindings } from '../src/operations/list-findings.js';
import { startBreakGlass } from '../src/operations/start-break-glass.js';
import { BACKENDS, freshStore } from './support/backends.js';
import { breakGlassPolicy } from './support/break-glass-policy.js';
import { grantThrough } from './support/flows.js';
import { applyPolicyText } from './support/provisioning-world.js';
import { buildWorld, type World } from './support/world.js';

/**
 * Break-glass and separation of duties: an emergency is not refused for a conflict (it cannot wait
 * for one to be sorted out), but the conflict is never silent: a critical finding for security at
 * once, and the first thing the post-use reviewer sees.
 */
const policy = () => {
  const doc = parse(breakGlassPolicy()) as { separation_of_duties: unknown[] };
  doc.separation_of_duties.push({ name: 'admin-not-approver', entitlements: ['payments/admin', 'payments/approve'] });
  return stringify(doc);
};
const emergency = { entitlement: 'payments/admin', incident: 'INC-4711', reason: 'payments batch stuck, customers not paid' };

for (const backend of BACKENDS) {
  describe(`break-glass through a separation-of-duties conflict goes ahead, flagged critical and shown to the reviewer (${backend})`, () => {
    let w: World;
    before(async () => {
      w = await buildWorld(await freshStore(backend));
      await applyPolicyText(w, policy());
      await grantThrough(w, 'carl', { entitlement: 'payments/approve', justification: 'sign-off', ticket: 'T-1', duration: '7d' }, ['sam', 'olivia']);
    });
    after(async () => { await w?.store.close(); });

    it('the holder of the other side gets the access, a critical finding for security names both, and the reviewer sees it first', async () => {
      const started = await startBreakGlass(await w.as('carl'), emergency);
      assert.match(started.sodConflict ?? '', /payments\/admin with payments\/approve \(admin-not-approver\)/);
      const [finding, ...more] = await listFindings(await w.as('selma'), { kind: 'sod_conflict', status: 'open' });
      assert.equal(more.length, 0);
      assert.deepEqual([finding!.severity, finding!.identity, finding!.owner, finding!.grantId], ['critical', 'carl', null, started.grantId]);
      const review = (await listBreakGlassReviews(await w.as('olivia'), { status: 'pending' })).find((r) => r.grantId === started.grantId);
      assert.match(review!.sodConflict ?? '', /carl broke the glass into payments\/admin/);
    });

    it('without a conflict there is no finding and nothing to flag', async () => {
      const started = await startBreakGlass(await w.as('eve'), emergency);
      assert.equal(started.sodConflict, null);
      const review = (await listBreakGlassReviews(await w.as('olivia'), { status: 'pending' })).find((r) => r.grantId === started.grantId);
      assert.equal(review!.sodConflict, null);
      assert.equal((await listFindings(await w.as('selma'), { kind: 'sod_conflict' })).length, 1, "only Carl's");
    });
  });
}
