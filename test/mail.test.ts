import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { eq } from 'drizzle-orm';
import { escalateWaitingApprovals } from '../src/jobs/approval-escalation.js';
import { createRequest } from '../src/operations/create-request.js';
import { createReviewCampaign } from '../src/operations/create-review-campaign.js';
import { decideReviewItem } from '../src/operations/decide-review-item.js';
import { denyRequest } from '../src/operations/deny-request.js';
import { setMailDelivery } from '../src/operations/set-mail-delivery.js';
import { startBreakGlass } from '../src/operations/start-break-glass.js';
import type { Store } from '../src/store/database.js';
import { reviewItems } from '../src/store/schema-reviews.js';
import { BACKENDS, freshStore } from './support/backends.js';
import { breakGlassPolicy } from './support/break-glass-policy.js';
import { grantThrough } from './support/flows.js';
import { addressEveryone, HOSTILE, mailTick, outbox, PUBLIC_URL } from './support/mail-world.js';
import { applyPolicyText } from './support/provisioning-world.js';
import { startSmtpSink, type SmtpSink } from './support/smtp-sink.js';
import { carlGets } from './support/review-world.js';
import { buildWorld, DAY, HOUR, type World } from './support/world.js';

for (const backend of BACKENDS) {
  describe(`e-mail through a real SMTP server (${backend})`, () => {
    let store: Store;
    let w: World;
    let sink: SmtpSink;
    const request = async (who: string, justification: string) => createRequest(await w.as(who), { entitlement: 'payments/read', justification, duration: '2d' });
    const to = (address: string) => sink.received.filter((m) => m.to.includes(address));

    beforeEach(async () => {
      store = await freshStore(backend);
      w = await buildWorld(store);
      await addressEveryone(store);
      sink = await startSmtpSink();
    });
    afterEach(async () => { await sink.stop(); await store.close(); });

    it('the approver of the waiting stage is told, in text and escaped HTML, with a link to the inbox and nothing that decides', async () => {
      await request('eve', `Quarter close ${HOSTILE}`);
      assert.deepEqual(await mailTick(w, sink), { written: 1, sent: 1, failed: 0 });
      const [message] = to('sam@example.org');
      assert.ok(message, 'Sam, the first stage, got the mail');
      const { mail } = message;
      assert.deepEqual(mail.from?.value.map((a) => [a.name, a.address]), [['Tenure', 'tenure@example.org']]);
      assert.match(mail.subject ?? '', /^Approval needed: eve asks for payments\/read on payments$/);
      assert.match(mail.text ?? '', new RegExp(`Reason: Quarter close ${HOSTILE.replace(/[()]/g, '\\$&')}`));
      assert.match(mail.text ?? '', new RegExp(`${PUBLIC_URL}/#/inbox`));
      const html = String(mail.html);
      assert.ok(!html.includes('<script>'), 'no display name or reason reaches the HTML unescaped');
      assert.ok(html.includes('Hello Sam &lt;script&gt;alert(1)&lt;/script&gt;,'));
      assert.ok(html.includes('Quarter close &lt;script&gt;'));
      assert.deepEqual([...html.matchAll(/href="([^"]+)"/g)].map((m) => m[1]), [`${PUBLIC_URL}/#/inbox`], 'one link, to the page behind sign-in');
      assert.match(mail.messageId ?? '', /^<[0-9a-f-]{36}@tenure\.example\.org>$/);
      assert.deepEqual(await mailTick(w, sink), { written: 0, sent: 0, failed: 0 }, 'nothing is sent twice');
    });

    it('the requester and beneficiary learn of a denial; someone without an address is written to through their sponsor', async () => {
      const asked = await request('carl', 'migration');
      await denyRequest(await w.as('sam'), { request: asked.id, reason: 'not this quarter' });
      await mailTick(w, sink);
      const denial = to('sam@example.org').filter((m) => m.mail.subject?.startsWith('Request was denied'));
      assert.equal(denial.length, 1, 'Carl has no address: his sponsor Sam gets his mail, once');
      assert.match(denial[0]!.mail.text ?? '', /You receive this because Carl Contractor has no e-mail address in Tenure\./);
      assert.match(denial[0]!.mail.text ?? '', /Reason: not this quarter/);
      assert.match(denial[0]!.mail.text ?? '', new RegExp(`${PUBLIC_URL}/#/access`));
    });

    it('an activated grant is announced to the holder', async () => {
      await grantThrough(w, 'eve', { entitlement: 'payments/read', justification: 'report', duration: '2d' }, ['sam', 'olivia']);
      await mailTick(w, sink);
      const [granted] = to('eve@example.org').filter((m) => m.mail.subject === 'Access granted: payments/read on payments');
      assert.ok(granted, `subjects to eve: ${to('eve@example.org').map((m) => m.mail.subject).join('; ')}`);
    });

    it('approvers are reminded once when their stage has waited a day', async () => {
      await request('eve', 'slow approver');
      await mailTick(w, sink);
      w.clock.advance(23 * HOUR);
      assert.equal((await mailTick(w, sink)).sent, 0, 'not before a day');
      w.clock.advance(2 * HOUR);
      assert.deepEqual(await mailTick(w, sink), { written: 1, sent: 1, failed: 0 });
      w.clock.advance(2 * 24 * HOUR);
      assert.deepEqual(await mailTick(w, sink), { written: 0, sent: 0, failed: 0 }, 'once per stage');
      const subjects = to('sam@example.org').map((m) => m.mail.subject);
      assert.deepEqual(subjects, ['Approval needed: eve asks for payments/read on payments', 'Reminder: approval needed: eve asks for payments/read on payments']);
      assert.match(to('sam@example.org')[1]!.mail.text ?? '', /It has waited for you since 2030-01-01 09:00 UTC\./);
    });

    it('a stage that waited three days escalates: its alternates, its approvers and IAM are told, once', async () => {
      await request('eve', 'nobody answers');
      w.clock.advance(3 * DAY + HOUR);
      assert.equal(await escalateWaitingApprovals(w.worker), 1);
      await mailTick(w, sink);
      await mailTick(w, sink);
      const subject = "Escalated: approval needed for eve's payments/read on payments";
      for (const address of ['selma@example.org', 'sam@example.org', 'ivan@example.org']) {
        assert.deepEqual(to(address).map((m) => m.mail.subject).filter((s) => s === subject), [subject], `${address} is told once`);
      }
      const [escalated] = to('selma@example.org').filter((m) => m.mail.subject === subject);
      assert.match(escalated!.mail.text ?? '', /It is now open to selma as well\./);
      assert.match(escalated!.mail.text ?? '', /has waited since 2030-01-01 09:00 UTC/);
      assert.match(escalated!.mail.text ?? '', new RegExp(`${PUBLIC_URL}/#/inbox`));
      assert.equal(to('eve@example.org').filter((m) => m.mail.subject === subject).length, 0, 'not the requester');
    });

    it('a reviewer is reminded once of each item still undecided two days before the campaign is due, and of no decided one', async () => {
      const read = await carlGets(w, 'payments/read');
      await carlGets(w, 'payments/initiate');
      await createReviewCampaign(await w.as('ivan'), { scope: 'non_employee', reviewer: 'sponsor', dueIn: '5d' });
      await mailTick(w, sink);
      const subjects = () => to('sam@example.org').map((m) => m.mail.subject).filter((s) => /review/i.test(s ?? ''));
      assert.equal(subjects().filter((s) => s?.startsWith('Review assigned:')).length, 2);
      const [decided] = await store.db.select({ id: reviewItems.id }).from(reviewItems).where(eq(reviewItems.grantId, read));
      await decideReviewItem(await w.as('sam'), { item: decided!.id, decision: 'keep', comment: 'still reconciling' });
      w.clock.advance(2 * DAY + HOUR);
      await mailTick(w, sink);
      assert.equal(subjects().filter((s) => s?.startsWith('Reminder')).length, 0, 'not three days ahead');
      w.clock.advance(DAY);
      await mailTick(w, sink);
      w.clock.advance(12 * HOUR);
      await mailTick(w, sink);
      const reminders = to('sam@example.org').filter((m) => m.mail.subject?.startsWith('Reminder: review due:'));
      assert.deepEqual(reminders.map((m) => m.mail.subject), ["Reminder: review due: carl's payments/initiate"], 'once, for the undecided item only');
      assert.match(reminders[0]!.mail.text ?? '', /the campaign's default decides it/);
    });

    it('mail waits while the SMTP server is down and is delivered once after it is back', async () => {
      await sink.stop();
      await request('eve', 'outage');
      assert.deepEqual(await mailTick(w, sink), { written: 1, sent: 0, failed: 1 });
      const [waiting] = await outbox(store);
      assert.deepEqual([waiting!.status, waiting!.attempts], ['pending', 1]);
      assert.match(waiting!.last_error ?? '', /ECONNREFUSED|ESOCKET|ECONNECTION/);
      assert.deepEqual(await mailTick(w, sink), { written: 0, sent: 0, failed: 0 }, 'not before its backoff');
      await sink.start();
      w.clock.advance(HOUR);
      assert.deepEqual(await mailTick(w, sink), { written: 0, sent: 1, failed: 0 });
      w.clock.advance(HOUR);
      assert.deepEqual(await mailTick(w, sink), { written: 0, sent: 0, failed: 0 });
      assert.equal(to('sam@example.org').length, 1);
      assert.equal((await outbox(store))[0]!.status, 'sent');
    });

    it('a daily digest gathers non-urgent mail into one message; break-glass reaches security at once all the same', async () => {
      await applyPolicyText(w, breakGlassPolicy());
      await setMailDelivery(await w.as('sam'), { mailDelivery: 'daily_digest' });
      await setMailDelivery(await w.as('ada'), { identity: 'selma', mailDelivery: 'daily_digest' });
      await request('eve', 'first');
      await request('carl', 'second');
      await startBreakGlass(await w.as('olivia'), { entitlement: 'payments/admin', incident: 'INC-1', reason: 'batch stuck' });
      await mailTick(w, sink);
      assert.equal(to('selma@example.org').length, 1, 'security is told at once, digest or not');
      const [alert] = to('selma@example.org');
      assert.match(alert?.mail.subject ?? '', /^URGENT: break-glass access taken by olivia on payments$/);
      assert.match(alert?.mail.text ?? '', new RegExp(`${PUBLIC_URL}/#/breakglass`));
      assert.equal(to('sam@example.org').length, 0, 'Sam reads a digest: nothing yet');
      w.clock.advance(21 * HOUR);
      assert.equal((await mailTick(w, sink)).sent, 0, 'not before 07:00 UTC');
      w.clock.advance(HOUR);
      assert.equal((await mailTick(w, sink)).sent, 1);
      const digests = to('sam@example.org');
      assert.equal(digests.length, 1, 'one message for the day');
      assert.equal(digests[0]!.mail.subject, 'Tenure: 2 notification(s) today');
      assert.match(digests[0]!.mail.text ?? '', /eve asks for payments\/read[\s\S]*carl asks for payments\/read|carl asks[\s\S]*eve asks/);
      assert.ok(!String(digests[0]!.mail.html).includes('<script>'));
    });
  });
}
