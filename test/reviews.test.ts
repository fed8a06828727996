import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { eq } from 'drizzle-orm';
import { closeDueCampaigns, NOT_CERTIFIED, runScheduledCampaigns } from '../src/jobs/reviews.js';
import { createReviewCampaign } from '../src/operations/create-review-campaign.js';
import { decideReviewItem } from '../src/operations/decide-review-item.js';
import { listReviewItems } from '../src/operations/list-review-items.js';
import { revokeGrant } from '../src/operations/revoke-grant.js';
import { reviewCampaigns, reviewItems } from '../src/store/schema-reviews.js';
import { refusedWith } from './support/assert.js';
import { BACKENDS } from './support/backends.js';
import { grantThrough } from './support/flows.js';
import { applyPolicyText } from './support/provisioning-world.js';
import { withService } from './support/service.js';
import { auditOf, birthright, carlGets, eveGets, grantRow, itemRows, recordUse, withWorld } from './support/review-world.js';
import { DAY, LIFECYCLE_POLICY, type World } from './support/world.js';

const campaign = async (w: World, as: string, input: Parameters<typeof createReviewCampaign>[1]) => createReviewCampaign(await w.as(as), input);
const mine = async (w: World, handle: string) => listReviewItems(await w.as(handle), { status: 'pending' });

for (const backend of BACKENDS) {
  describe(`access review campaigns (${backend})`, () => {
    it('a campaign over non-employee grants asks each contractor\'s sponsor about each grant, with when it was granted, who approved, last use and the engagement end', () =>
      withWorld(backend, async (w) => {
        const read = await carlGets(w, 'payments/read');
        const initiate = await carlGets(w, 'payments/initiate');
        await eveGets(w, 'payments/read');
        w.clock.advance(2 * DAY);
        await recordUse(w, read);
        const opened = await campaign(w, 'ivan', { scope: 'non_employee', reviewer: 'sponsor', dueIn: '14d' });
        assert.deepEqual({ created: opened.created, items: opened.items, unassigned: opened.unassigned }, { created: true, items: 2, unassigned: [] });
        const items = await mine(w, 'sam');
        assert.deepEqual(items.map((i) => [i.holder, i.evidence.entitlement]).sort(), [['carl', 'payments/initiate'], ['carl', 'payments/read']]);
        const onRead = items.find((i) => i.grantId === read)!;
        assert.deepEqual(onRead.evidence.approvals.map((a) => [a.stage, a.approver]), [['sponsor', 'sam'], ['system_owner', 'olivia']]);
        assert.equal(onRead.evidence.grantedAt, (await grantRow(w, read)).startsAt.toISOString());
        assert.equal(onRead.evidence.lastUsedAt, w.clock.now().toISOString());
        assert.equal(items.find((i) => i.grantId === initiate)!.evidence.lastUsedAt, null, 'never used');
        assert.equal(onRead.evidence.engagement?.id, w.engagementId);
        assert.equal(onRead.evidence.engagement?.endsAt, new Date(Date.parse('2030-01-01T09:00:00Z') + 60 * DAY).toISOString());
        assert.equal(onRead.dueAt.getTime(), w.clock.now().getTime() + 14 * DAY);
        assert.equal(onRead.undecided, 'revoke', 'a contractor\'s access nobody vouches for goes');
        const [event] = await auditOf(w, 'review.campaign_opened');
        assert.equal((event!.after as { items: number }).items, 2);
        assert.deepEqual(await mine(w, 'olivia'), [], 'the owner is not asked when the sponsor can answer');
      }));

    it('a reviewer is never asked about their own access: the item goes to the system owner', () => withWorld(backend, async (w) => {
      const olivias = await grantThrough(w, 'olivia', { entitlement: 'crm/read', justification: 'customer calls', duration: '20d' }, ['selma', 'tom']);
      const eves = await eveGets(w, 'crm/read');
      await campaign(w, 'ivan', { scope: 'system', system: 'crm', reviewer: 'system_owner', dueIn: '7d' });
      assert.deepEqual((await mine(w, 'olivia')).map((i) => i.grantId), [eves]);
      const [toTom] = await mine(w, 'tom');
      assert.equal(toTom!.grantId, olivias, 'the business owner holds it: the technical owner reviews it');
      await w.store.db.update(reviewItems).set({ reviewerId: await w.id('olivia') }).where(eq(reviewItems.id, toTom!.id));
      await refusedWith(decideReviewItem(await w.as('olivia'), { item: toTom!.id, decision: 'keep', comment: 'mine, fine' }),
        'review.self_review_forbidden', 'item');
    }));

    it('a campaign with no items is not created; a grant only its holder could review is reported, not assigned', () => withWorld(backend, async (w) => {
      const none = await campaign(w, 'selma', { scope: 'privileged', reviewer: 'system_owner', dueIn: '7d' });
      assert.deepEqual(none, { campaignId: null, items: 0, unassigned: [], created: false, dueAt: none.dueAt });
      const sams = await birthright(w, 'sam', 'lab/use');
      const lab = await campaign(w, 'selma', { scope: 'system', system: 'lab', reviewer: 'system_owner', dueIn: '7d' });
      assert.deepEqual({ created: lab.created, unassigned: lab.unassigned }, { created: false, unassigned: [sams] });
      assert.equal((await w.store.db.select().from(reviewCampaigns)).length, 0);
      assert.equal((await auditOf(w, 'review.campaign_opened')).length, 0);
      await refusedWith(campaign(w, 'selma', { scope: 'system', reviewer: 'sponsor', dueIn: '7d' }), 'input.invalid', 'system');
      await refusedWith(campaign(w, 'selma', { scope: 'system', system: 'nope', reviewer: 'sponsor', dueIn: '7d' }), 'system.not_found', 'system');
      await refusedWith(campaign(w, 'selma', { scope: 'all', reviewer: 'sponsor', due: '2029-01-01T00:00:00Z' }), 'input.invalid', 'due');
      await refusedWith(campaign(w, 'sam', { scope: 'all', reviewer: 'sponsor', dueIn: '7d' }), 'actor.forbidden');
    }));

    it('keep, revoke and shorten each need a comment and land in the audit log', () => withWorld(backend, async (w) => {
      const keep = await carlGets(w, 'payments/read');
      const revoke = await carlGets(w, 'payments/initiate');
      const shorten = await grantThrough(w, 'carl', { entitlement: 'crm/read', justification: 'out of scope', duration: '20d' }, ['sam', 'olivia', 'selma']);
      await campaign(w, 'ivan', { scope: 'engagement', engagement: w.engagementId, reviewer: 'sponsor', dueIn: '7d' });
      const item = async (grantId: string) => (await mine(w, 'sam')).find((i) => i.grantId === grantId)!.id;
      const sam = await w.as('sam');
      await refusedWith(decideReviewItem(sam, { item: await item(keep), decision: 'keep', comment: ' ' }), 'input.invalid', 'comment');
      await refusedWith(decideReviewItem(sam, { item: await item(keep), decision: 'keep' } as never), 'input.invalid', 'comment');
      const shortenId = await item(shorten);
      const current = (await grantRow(w, shorten)).endsAt!;
      await refusedWith(decideReviewItem(sam, { item: shortenId, decision: 'shorten', comment: 'less' }), 'input.invalid', 'endsAt');
      await refusedWith(decideReviewItem(sam, { item: shortenId, decision: 'shorten', comment: 'less', endsAt: new Date(current.getTime() + DAY) }),
        'review.invalid_end', 'endsAt');
      await refusedWith(decideReviewItem(sam, { item: shortenId, decision: 'shorten', comment: 'less', endsAt: new Date(w.clock.now().getTime() - 1) }),
        'review.invalid_end', 'endsAt');

      const newEnd = new Date(w.clock.now().getTime() + 3 * DAY);
      assert.equal((await decideReviewItem(sam, { item: await item(keep), decision: 'keep', comment: 'daily reports' })).status, 'kept');
      assert.equal((await decideReviewItem(sam, { item: await item(revoke), decision: 'revoke', comment: 'no longer initiates' })).status, 'revoked');
      const last = await decideReviewItem(sam, { item: shortenId, decision: 'shorten', comment: 'only this week', endsAt: newEnd });
      assert.deepEqual({ status: last.status, closed: last.campaignClosed }, { status: 'shortened', closed: true });
      assert.equal((await grantRow(w, revoke)).status, 'revoked');
      assert.equal((await grantRow(w, shorten)).endsAt!.getTime(), newEnd.getTime());
      const decided = await auditOf(w, 'review.decided');
      assert.deepEqual(decided.map((e) => [(e.after as { decision: string }).decision, e.reason]).sort(),
        [['keep', 'daily reports'], ['revoke', 'no longer initiates'], ['shorten', 'only this week']]);
      const carl = await w.id('carl');
      assert.ok(decided.every((e) => e.actor.id === sam.actor.id && e.identityId === carl), 'by the reviewer, about the holder');
      assert.equal((await auditOf(w, 'grant.revoked')).at(-1)!.reason, 'review: no longer initiates');
      assert.equal((await auditOf(w, 'grant.shortened')).at(-1)!.reason, 'review: only this week');
      assert.equal((await auditOf(w, 'review.campaign_closed')).length, 1);
      await refusedWith(decideReviewItem(sam, { item: shortenId, decision: 'revoke', comment: 'again' }), 'review.already_decided', 'item');
    }));

    it('an item whose grant ended meanwhile is void, whatever the reviewer answers', () => withWorld(backend, async (w) => {
      const grant = await carlGets(w, 'payments/read');
      await campaign(w, 'ivan', { scope: 'non_employee', reviewer: 'sponsor', dueIn: '7d' });
      await revokeGrant(await w.as('ivan'), { grant, reason: 'contract paused' });
      const [item] = await mine(w, 'sam');
      const decided = await decideReviewItem(await w.as('sam'), { item: item!.id, decision: 'keep', comment: 'still needed' });
      assert.deepEqual({ status: decided.status, closed: decided.campaignClosed }, { status: 'void', closed: true });
      assert.equal((await auditOf(w, 'review.item_voided')).length, 1);
    }));

    it('undecided items of contractors are revoked when the campaign closes, an employee\'s are kept', () => withWorld(backend, async (w) => {
      const carls = await carlGets(w, 'payments/read');
      const eves = await eveGets(w, 'payments/read');
      const opened = await campaign(w, 'ivan', { scope: 'system', system: 'payments', reviewer: 'system_owner', dueIn: '7d' });
      w.clock.advance(6 * DAY);
      assert.equal((await closeDueCampaigns(w.worker)).closed, 0, 'not yet due');
      w.clock.advance(DAY);
      assert.deepEqual(await closeDueCampaigns(w.worker), { closed: 1, defaultedRevoke: 1, defaultedKeep: 1, voided: 0, renewalsLapsed: 0 });
      const carl = await grantRow(w, carls);
      assert.deepEqual({ status: carl.status, why: carl.endReason }, { status: 'revoked', why: NOT_CERTIFIED });
      assert.equal((await grantRow(w, eves)).status, 'active');
      const statuses = new Map((await itemRows(w, opened.campaignId!)).map((i) => [i.grantId, i.status]));
      assert.deepEqual([statuses.get(carls), statuses.get(eves)], ['defaulted_revoke', 'defaulted_keep']);
      assert.equal((await w.store.db.select().from(reviewCampaigns))[0]!.status, 'closed');
      assert.equal((await auditOf(w, 'review.defaulted')).length, 2);
      assert.equal((await closeDueCampaigns(w.worker)).closed, 0, 'closed once');
    }));

    it('someone other than the assigned reviewer cannot decide', () => withWorld(backend, async (w) => {
      await carlGets(w, 'payments/read');
      await campaign(w, 'ivan', { scope: 'non_employee', reviewer: 'sponsor', dueIn: '7d' });
      const [item] = await mine(w, 'sam');
      const decide = async (handle: string) => decideReviewItem(await w.as(handle), { item: item!.id, decision: 'revoke', comment: 'not mine to say' });
      await refusedWith(decide('eve'), 'review.item_not_found', 'item');
      await refusedWith(decide('olivia'), 'review.item_not_found', 'item');
      await refusedWith(decide('selma'), 'actor.forbidden', 'item');
      // Ada created Carl: a party to his access is refused before her role is looked at.
      await refusedWith(decide('ada'), 'review.self_review_forbidden', 'item');
      await refusedWith(decide('carl'), 'review.self_review_forbidden', 'item');
      await refusedWith(listReviewItems(await w.as('eve'), { view: 'all' }), 'actor.forbidden', 'view');
      assert.equal((await listReviewItems(await w.as('audrey'), { view: 'all' })).length, 1, 'auditors see every item');
      assert.equal((await mine(w, 'sam'))[0]!.status, 'pending');
    }));

    it('a service account cannot decide a review item, nor can automation, whatever roles or assignment it is given', () => withWorld(backend, async (w) => {
      await carlGets(w, 'payments/read');
      await campaign(w, 'ivan', { scope: 'non_employee', reviewer: 'sponsor', dueIn: '7d' });
      const [item] = await mine(w, 'sam');
      await w.store.db.update(reviewItems).set({ reviewerId: await w.id('bot') }).where(eq(reviewItems.id, item!.id));
      await refusedWith(decideReviewItem(await w.as('bot'), { item: item!.id, decision: 'keep', comment: 'automated' }), 'actor.not_a_person');
      await refusedWith(decideReviewItem(w.worker, { item: item!.id, decision: 'keep', comment: 'automated' }), 'actor.required');
      assert.equal((await itemRows(w, item!.campaignId))[0]!.status, 'pending');
    }));

    it('a policy campaign runs on its schedule and not again before its period', () => withWorld(backend, async (w) => {
      const policy = readFileSync(LIFECYCLE_POLICY, 'utf8').replace('systems:\n',
        'reviews:\n  campaigns:\n    contractors:\n      grants: non_employee\n      reviewer: sponsor\n      every: 7d\n      due_in: 3d\n      undecided: keep\nsystems:\n');
      await applyPolicyText(w, policy);
      await carlGets(w, 'payments/read', '30d');
      const first = await runScheduledCampaigns(w.worker);
      assert.deepEqual(first.opened.map((o) => [o.key, o.items]), [['contractors', 1]]);
      const [row] = await w.store.db.select().from(reviewCampaigns);
      assert.deepEqual({ trigger: row!.trigger, key: row!.policyKey, due: row!.dueAt.getTime() - w.clock.now().getTime() },
        { trigger: 'schedule', key: 'contractors', due: 3 * DAY });
      assert.equal((await mine(w, 'sam'))[0]!.undecided, 'keep', 'the policy says what undecided items get');
      assert.deepEqual((await runScheduledCampaigns(w.worker)).opened, []);
      w.clock.advance(6 * DAY);
      assert.deepEqual((await runScheduledCampaigns(w.worker)).opened, [], 'not before its period');
      w.clock.advance(DAY);
      assert.equal((await runScheduledCampaigns(w.worker)).opened.length, 1, 'again once the period has passed');
    }));
  });
}

describe('access reviews over HTTP', () => {
  it('IAM opens a campaign, the sponsor sees and decides it, a service account\'s token is refused, and the contractor asks for renewal', () =>
    withService(async (s) => {
      await carlGets(s.world, 'payments/read');
      const body = { scope: 'non_employee', reviewer: 'sponsor', dueIn: '7d' };
      assert.equal((await s.call('POST', '/v1/reviews/campaigns', { as: 'sam', body })).json().code, 'actor.forbidden');
      const opened = await s.call('POST', '/v1/reviews/campaigns', { as: 'ivan', body });
      assert.equal(opened.statusCode, 201, opened.body);
      const listed = await s.call('GET', '/v1/reviews/items?status=pending', { as: 'sam' });
      assert.equal(listed.statusCode, 200, listed.body);
      const [item] = listed.json().items as { id: string; evidence: { approvals: unknown[] } }[];
      assert.equal(item!.evidence.approvals.length, 2);

      await s.world.store.db.update(reviewItems).set({ reviewerId: await s.world.id('bot') }).where(eq(reviewItems.id, item!.id));
      const byBot = await s.call('POST', `/v1/reviews/items/${item!.id}/decide`, { as: 'bot', body: { decision: 'keep', comment: 'automated' } });
      assert.deepEqual([byBot.statusCode, byBot.json().code], [403, 'actor.not_a_person']);
      await s.world.store.db.update(reviewItems).set({ reviewerId: await s.world.id('sam') }).where(eq(reviewItems.id, item!.id));
      const noComment = await s.call('POST', `/v1/reviews/items/${item!.id}/decide`, { as: 'sam', body: { decision: 'keep' } });
      assert.equal(noComment.statusCode, 400);
      const kept = await s.call('POST', `/v1/reviews/items/${item!.id}/decide`, { as: 'sam', body: { decision: 'keep', comment: 'still needed' } });
      assert.deepEqual([kept.statusCode, kept.json().status, kept.json().campaignClosed], [200, 'kept', true]);

      const endsAt = new Date(s.world.clock.now().getTime() + 90 * DAY).toISOString();
      const renewal = await s.call('POST', `/v1/engagements/${s.world.engagementId}/renew`, { as: 'carl', body: { endsAt, reason: 'extended contract' } });
      assert.deepEqual([renewal.statusCode, renewal.json().renewed, renewal.json().items], [200, false, 1], renewal.body);
    }));
});
