import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { runLifecycleTick } from '../src/jobs/lifecycle.js';
import { closeDueCampaigns } from '../src/jobs/reviews.js';
import { changeEngagementEnd } from '../src/operations/change-engagement-end.js';
import { changeIdentityStatus } from '../src/operations/change-identity-status.js';
import { decideReviewItem } from '../src/operations/decide-review-item.js';
import { listReviewItems } from '../src/operations/list-review-items.js';
import { renewEngagement } from '../src/operations/renew-engagement.js';
import { refusedWith } from './support/assert.js';
import { BACKENDS } from './support/backends.js';
import { auditOf, carlGets, engagementRow, grantRow, withWorld } from './support/review-world.js';
import { DAY, type World } from './support/world.js';

const later = (w: World, days: number) => new Date(w.clock.now().getTime() + days * DAY);
const renew = async (w: World, as: string, endsAt: Date, reason = 'phase two of the migration') =>
  renewEngagement(await w.as(as), { engagement: w.engagementId, endsAt, reason });
const samsItems = async (w: World) => listReviewItems(await w.as('sam'), { status: 'pending' });

for (const backend of BACKENDS) {
  describe(`engagement renewal: the sponsor revalidates every grant first (${backend})`, () => {
    it('renewal moves the engagement end only once the sponsor has revalidated every grant; dropped grants are revoked', () => withWorld(backend, async (w) => {
      const kept = await carlGets(w, 'payments/read');
      const dropped = await carlGets(w, 'payments/initiate');
      const oldEnd = (await engagementRow(w)).endsAt;
      const target = later(w, 120);
      const asked = await renew(w, 'carl', target);
      assert.deepEqual({ renewed: asked.renewed, items: asked.items, endsAt: asked.endsAt.getTime() }, { renewed: false, items: 2, endsAt: oldEnd.getTime() });
      assert.equal(asked.dueAt!.getTime(), later(w, 7).getTime(), 'due within the policy\'s event window (default 7 days)');
      await refusedWith(renew(w, 'ivan', later(w, 90)), 'review.renewal_pending', 'engagement');

      const items = await samsItems(w);
      assert.deepEqual(items.map((i) => [i.trigger, i.undecided]), [['engagement_renewal', 'revoke'], ['engagement_renewal', 'revoke']]);
      assert.equal(items[0]!.renewalEndsAt!.getTime(), target.getTime());
      const itemOf = (grant: string) => items.find((i) => i.grantId === grant)!.id;
      const first = await decideReviewItem(await w.as('sam'), { item: itemOf(kept), decision: 'keep', comment: 'still reconciling' });
      assert.deepEqual({ closed: first.campaignClosed, renewed: first.engagementRenewed }, { closed: false, renewed: false });
      assert.equal((await engagementRow(w)).endsAt.getTime(), oldEnd.getTime(), 'not before every grant is revalidated');

      const last = await decideReviewItem(await w.as('sam'), { item: itemOf(dropped), decision: 'revoke', comment: 'phase two needs no initiation' });
      assert.deepEqual({ closed: last.campaignClosed, renewed: last.engagementRenewed }, { closed: true, renewed: true });
      assert.equal((await engagementRow(w)).endsAt.getTime(), target.getTime());
      assert.equal((await grantRow(w, dropped)).status, 'revoked');
      assert.equal((await grantRow(w, kept)).status, 'active');
      const [renewed] = await auditOf(w, 'engagement.renewed');
      assert.deepEqual(renewed!.after, { endsAt: target.toISOString(), campaignId: items[0]!.campaignId });
      assert.equal((await auditOf(w, 'engagement.renewal_requested')).length, 1);
    }));

    it('the last two grants revalidated at the same moment still renew the engagement, exactly once', () => withWorld(backend, async (w) => {
      await carlGets(w, 'payments/read');
      await carlGets(w, 'payments/initiate');
      const target = later(w, 100);
      await renew(w, 'carl', target);
      const sam = await w.as('sam');
      const decided = await Promise.all((await samsItems(w)).map((i) => decideReviewItem(sam, { item: i.id, decision: 'keep', comment: 'both needed' })));
      assert.deepEqual(decided.map((d) => d.engagementRenewed).sort(), [false, true]);
      assert.equal((await engagementRow(w)).endsAt.getTime(), target.getTime());
      assert.equal((await auditOf(w, 'engagement.renewed')).length, 1);
    }));

    it('a renewal nobody revalidates lapses and the engagement ends on its old date', () => withWorld(backend, async (w) => {
      const grant = await carlGets(w, 'payments/read');
      const oldEnd = (await engagementRow(w)).endsAt;
      await renew(w, 'ivan', later(w, 120));
      w.clock.advance(7 * DAY);
      assert.deepEqual(await closeDueCampaigns(w.worker), { closed: 1, defaultedRevoke: 1, defaultedKeep: 0, voided: 0, renewalsLapsed: 1 });
      assert.equal((await grantRow(w, grant)).status, 'revoked', 'not revalidated: dropped');
      assert.equal((await engagementRow(w)).endsAt.getTime(), oldEnd.getTime());
      assert.equal((await auditOf(w, 'engagement.renewal_lapsed')).length, 1);
      assert.equal((await auditOf(w, 'engagement.renewed')).length, 0);
      w.clock.set(new Date(oldEnd.getTime() + 1000));
      await runLifecycleTick(w.worker);
      assert.equal((await engagementRow(w)).status, 'ended');
    }));

    it('a renewal is due no later than the current end, and asks for a later end within the vendor contract', () => withWorld(backend, async (w) => {
      await carlGets(w, 'payments/read', '2d');
      await changeEngagementEnd(await w.as('ivan'), { engagement: w.engagementId, endsAt: later(w, 3), reason: 'short phase' });
      await refusedWith(renew(w, 'carl', later(w, 2)), 'engagement.invalid_dates', 'endsAt');
      await refusedWith(renew(w, 'carl', new Date('2031-06-01T00:00:00Z')), 'engagement.invalid_dates', 'endsAt');
      await refusedWith(renew(w, 'eve', later(w, 30)), 'engagement.not_found', 'engagement');
      const asked = await renew(w, 'sam', later(w, 30));
      assert.equal(asked.dueAt!.getTime(), later(w, 3).getTime());
    }));

    it('with no live grants the sponsor renews at once; anyone else is told the sponsor must revalidate', () => withWorld(backend, async (w) => {
      const target = later(w, 90);
      await refusedWith(renew(w, 'ivan', target), 'engagement.sponsor_must_renew', 'engagement');
      await refusedWith(renew(w, 'carl', target), 'engagement.sponsor_must_renew', 'engagement');
      const renewed = await renew(w, 'sam', target);
      assert.deepEqual({ renewed: renewed.renewed, campaign: renewed.campaignId }, { renewed: true, campaign: null });
      assert.equal((await engagementRow(w)).endsAt.getTime(), target.getTime());
      assert.equal((await auditOf(w, 'engagement.renewed'))[0]!.actor.id, await w.id('sam'));
    }));

    it('an inactive sponsor cannot revalidate: the renewal is refused until the sponsor is replaced', () => withWorld(backend, async (w) => {
      await carlGets(w, 'payments/read');
      await changeIdentityStatus(await w.as('ivan'), { identity: 'sam', status: 'suspended', reason: 'leave of absence' });
      await refusedWith(renew(w, 'ivan', later(w, 90)), 'identity.sponsor_inactive', 'engagement');
    }));
  });
}
