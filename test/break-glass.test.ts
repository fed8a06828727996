import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { eq } from 'drizzle-orm';
import { escalateOverdueBreakGlassReviews } from '../src/jobs/break-glass.js';
import { listBreakGlassReviews } from '../src/operations/list-break-glass-reviews.js';
import { listFindings } from '../src/operations/list-findings.js';
import { reviewBreakGlass } from '../src/operations/review-break-glass.js';
import { startBreakGlass } from '../src/operations/start-break-glass.js';
import { newId } from '../src/domain/ids.js';
import type { Store } from '../src/store/database.js';
import { grants } from '../src/store/schema.js';
import { accessEvents } from '../src/store/schema-service.js';
import { refusedWith } from './support/assert.js';
import { BACKENDS, freshStore } from './support/backends.js';
import { applyPolicyText } from './support/provisioning-world.js';
import { breakGlassPolicy } from './support/break-glass-policy.js';
import { buildWorld, HOUR, type World } from './support/world.js';

const grantOf = async (w: World, id: string) => (await w.store.db.select().from(grants).where(eq(grants.id, id)))[0]!;
const emergency = { entitlement: 'payments/admin', incident: 'INC-4711', reason: 'payments batch stuck, customers not paid' };

for (const backend of BACKENDS) {
  describe(`break-glass: immediate, short, reviewed after use (${backend})`, () => {
    let store: Store;
    let w: World;
    before(async () => { store = await freshStore(backend); w = await buildWorld(store); await applyPolicyText(w, breakGlassPolicy()); });
    after(async () => { await store?.close(); });

    it('an allowed user gets the access at once, ending within the maximum, reviewed by the business owner within a day', async () => {
      const started = await startBreakGlass(await w.as('eve'), emergency);
      const grant = await grantOf(w, started.grantId);
      assert.deepEqual({ status: grant.status, origin: grant.origin }, { status: 'active', origin: 'break_glass' });
      assert.equal(grant.endsAt!.getTime() - w.clock.now().getTime(), 2 * HOUR, 'the policy maximum, below the 4-hour ceiling');
      assert.equal(started.reviewerId, await w.id('olivia'));
      assert.equal(started.reviewDueAt.getTime() - w.clock.now().getTime(), 24 * HOUR);
      const [review] = await listBreakGlassReviews(await w.as('olivia'), { status: 'pending' });
      assert.equal(review!.identity, 'eve');
      assert.equal(review!.incident, 'INC-4711');
    });

    it('is refused on an entitlement not marked capable, to someone not allowed, past the maximum, or without an incident', async () => {
      await refusedWith(startBreakGlass(await w.as('olivia'), { ...emergency, entitlement: 'payments/read' }), 'breakglass.not_capable', 'entitlement');
      await refusedWith(startBreakGlass(await w.as('tom'), emergency), 'breakglass.not_allowed');
      await refusedWith(startBreakGlass(await w.as('olivia'), { ...emergency, ttl: '3h' }), 'breakglass.ttl_too_long', 'ttl');
      await refusedWith(startBreakGlass(await w.as('olivia'), { ...emergency, incident: ' ' }), 'input.invalid', 'incident');
      await refusedWith(startBreakGlass(await w.as('eve'), emergency), 'request.duplicate', 'entitlement');
    });

    it('the business owner breaking the glass is reviewed by the technical owner, never by herself', async () => {
      const started = await startBreakGlass(await w.as('olivia'), { ...emergency, ttl: '30m' });
      assert.equal(started.reviewerId, await w.id('tom'));
      assert.equal((await grantOf(w, started.grantId)).endsAt!.getTime() - w.clock.now().getTime(), 30 * 60_000);
      await refusedWith(reviewBreakGlass(await w.as('olivia'), { review: started.reviewId, outcome: 'appropriate', comment: 'fine' }),
        'breakglass.self_review_forbidden');
      await refusedWith(reviewBreakGlass(await w.as('sam'), { review: started.reviewId, outcome: 'appropriate', comment: 'fine' }),
        'breakglass.review_not_found', 'review');
      await refusedWith(reviewBreakGlass(await w.as('bot'), { review: started.reviewId, outcome: 'appropriate', comment: 'fine' }), 'actor.not_a_person');
      assert.deepEqual(await reviewBreakGlass(await w.as('tom'), { review: started.reviewId, outcome: 'appropriate', comment: 'incident confirmed' }),
        { id: started.reviewId, status: 'appropriate', accessEnded: false });
      await refusedWith(reviewBreakGlass(await w.as('selma'), { review: started.reviewId, outcome: 'inappropriate', comment: 'again' }),
        'breakglass.already_reviewed', 'review');
    });

    it('the reviewer sees what happened in the window: the user\'s audit events and the decision point\'s answers', async () => {
      const [review] = (await listBreakGlassReviews(await w.as('olivia'), { status: 'pending' })).filter((r) => r.identity === 'eve');
      await store.db.insert(accessEvents).values({ id: newId(), at: w.clock.now(), identityId: await w.id('eve'), entitlementKey: 'payments/admin',
        systemKey: 'payments', action: 'alter', allowed: true, reason: 'grant', grantId: review!.grantId });
      const [seen] = (await listBreakGlassReviews(await w.as('olivia'), { status: 'pending' })).filter((r) => r.identity === 'eve');
      assert.ok(seen!.evidence.auditEvents.some((e) => e.action === 'breakglass.activated'));
      assert.deepEqual(seen!.evidence.accessEvents.map((e) => [e.entitlement, e.action, e.allowed]), [['payments/admin', 'alter', true]]);
    });

    it('a review not decided within a day escalates to security, who may decide it; inappropriate ends the access with a critical finding', async () => {
      const started = await startBreakGlass(await w.as('sam'), { ...emergency, ttl: '2h' });
      w.clock.advance(HOUR);
      assert.equal(await escalateOverdueBreakGlassReviews(w.worker), 0, 'not yet due');
      w.clock.advance(24 * HOUR);
      assert.ok(await escalateOverdueBreakGlassReviews(w.worker) >= 1);
      const overdue = await listFindings(await w.as('selma'), { status: 'open', kind: 'breakglass_review_overdue' });
      assert.ok(overdue.some((f) => f.grantId === started.grantId));

      const carl = await startBreakGlass(await w.as('carl'), { ...emergency, ttl: '1h' });
      const decided = await reviewBreakGlass(await w.as('selma'), { review: carl.reviewId, outcome: 'inappropriate', comment: 'no incident on record' });
      assert.deepEqual(decided, { id: carl.reviewId, status: 'inappropriate', accessEnded: true });
      assert.equal((await grantOf(w, carl.grantId)).status, 'revoked');
      const misuse = await listFindings(await w.as('selma'), { status: 'open', kind: 'breakglass_misuse' });
      assert.equal(misuse.find((f) => f.grantId === carl.grantId)?.severity, 'critical');
      await reviewBreakGlass(await w.as('selma'), { review: started.reviewId, outcome: 'appropriate', comment: 'late, but justified' });
      assert.ok(!(await listFindings(await w.as('selma'), { status: 'open', kind: 'breakglass_review_overdue' })).some((f) => f.grantId === started.grantId),
        'deciding the review closes its escalation');
    });
  });
}
