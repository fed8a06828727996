import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { eq } from 'drizzle-orm';
import { parse, stringify } from 'yaml';
import { newId } from '../src/domain/ids.js';
import { runPass } from '../src/jobs/pass.js';
import { acceptFinding } from '../src/operations/accept-finding.js';
import { listFindings } from '../src/operations/list-findings.js';
import { revokeGrant } from '../src/operations/revoke-grant.js';
import { entitlements, grants } from '../src/store/schema.js';
import { BACKENDS, freshStore } from './support/backends.js';
import { grantThrough } from './support/flows.js';
import { applyPolicyText } from './support/provisioning-world.js';
import { buildWorld, DAY, LIFECYCLE_POLICY, type World } from './support/world.js';

/**
 * Separation of duties after the fact: access granted before a rule existed, or written straight
 * into the table by someone with database rights, is found by the scan that runs after every
 * policy apply and in every worker pass; the finding is security's, stays one per person and rule,
 * may be accepted as an exception with an end, and closes when one side is gone.
 */

const withoutRules = () => {
  const doc = parse(readFileSync(LIFECYCLE_POLICY, 'utf8')) as Record<string, unknown>;
  doc.separation_of_duties = [];
  return stringify(doc);
};

for (const backend of BACKENDS) {
  describe(`separation of duties is checked after the fact, not only at the request (${backend})`, () => {
    let w: World;
    const conflicts = async (status?: 'open' | 'accepted' | 'resolved') =>
      listFindings(await w.as('selma'), { kind: 'sod_conflict', ...(status ? { status } : {}) });
    const grantTo = (who: string, entitlement: string, approvers: string[]) =>
      grantThrough(w, who, { entitlement, justification: 'work', ticket: 'T-1', duration: '7d' }, approvers);

    before(async () => { w = await buildWorld(await freshStore(backend)); });
    after(async () => { await w?.store.close(); });

    it('a rule applied after both sides were granted flags the holder at once, for security, naming the rule and both grants', async () => {
      await applyPolicyText(w, withoutRules());
      const initiate = await grantTo('carl', 'payments/initiate', ['sam', 'olivia']);
      const approve = await grantTo('carl', 'payments/approve', ['sam', 'olivia']);
      assert.deepEqual(await conflicts(), [], 'no rule, no finding');
      await applyPolicyText(w, readFileSync(LIFECYCLE_POLICY, 'utf8'));
      const [finding, ...more] = await conflicts('open');
      assert.ok(finding, 'the apply opened a finding');
      assert.equal(more.length, 0);
      assert.equal(finding.identity, 'carl');
      assert.equal(finding.owner, null, "security's, not the sponsor's");
      assert.equal(finding.severity, 'high');
      assert.match(finding.summary, /carl holds payments\/initiate and payments\/approve, which payments-maker-checker keeps apart/);
      assert.deepEqual((finding.evidence as { grants: { id: string }[] }).grants.map((g) => g.id).sort(), [initiate, approve].sort());
    });

    it('a worker pass keeps the one finding (no second), an exception holds it accepted, and revoking one side closes it', async () => {
      await runPass(w.worker);
      const [finding, ...more] = await conflicts('open');
      assert.ok(finding && more.length === 0, 'still exactly one open finding');
      await assert.rejects(acceptFinding(await w.as('carl'), { finding: finding.id, reason: 'mine', until: new Date(w.clock.now().getTime() + 30 * DAY).toISOString() }),
        'the holder does not accept their own conflict');
      await acceptFinding(await w.as('selma'), { finding: finding.id, reason: 'month-end cover', until: new Date(w.clock.now().getTime() + 30 * DAY).toISOString() });
      w.clock.advance(60_000);
      await runPass(w.worker);
      assert.equal((await conflicts('accepted')).length, 1, 'the exception stands while its end is ahead');
      const grantIds = (finding.evidence as { grants: { id: string; entitlement: string }[] }).grants;
      await revokeGrant(await w.as('ivan'), { grant: grantIds.find((g) => g.entitlement === 'payments/approve')!.id, reason: 'one side only' });
      w.clock.advance(60_000);
      const pass = await runPass(w.worker);
      assert.equal(pass.sodFindings.closed, 1);
      assert.equal((await conflicts('resolved')).length, 1);
      assert.equal((await conflicts('accepted')).length + (await conflicts('open')).length, 0);
    });

    it('a grant written straight into the table, around every check, is found by the next pass', async () => {
      const [approveEnt] = await w.store.db.select({ id: entitlements.id }).from(entitlements).where(eq(entitlements.key, 'payments/approve'));
      const engagementId = w.engagementId;
      await w.store.db.insert(grants).values({ id: newId(), identityId: await w.id('carl'), entitlementId: approveEnt!.id, engagementId,
        requestId: null, origin: 'birthright', startsAt: w.clock.now(), endsAt: new Date(w.clock.now().getTime() + DAY), status: 'active',
        provisioningState: 'pending', createdAt: w.clock.now() });
      w.clock.advance(60_000);
      const pass = await runPass(w.worker);
      assert.equal(pass.sodFindings.opened, 1);
      assert.equal((await conflicts('open')).length, 1);
    });
  });
}
