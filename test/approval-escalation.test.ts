import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { and, asc, eq } from 'drizzle-orm';
import { escalateWaitingApprovals } from '../src/jobs/approval-escalation.js';
import { approveRequest } from '../src/operations/approve-request.js';
import { createIdentity } from '../src/operations/create-identity.js';
import { createRequest } from '../src/operations/create-request.js';
import { listRequests } from '../src/operations/list-requests.js';
import { validatePolicyFiles } from '../src/policy/validate.js';
import type { Store } from '../src/store/database.js';
import { auditEvents, requestStages } from '../src/store/schema.js';
import { refusedWith } from './support/assert.js';
import { BACKENDS, freshStore } from './support/backends.js';
import { applyPolicyText } from './support/provisioning-world.js';
import { buildWorld, DAY, HOUR, LIFECYCLE_POLICY, type World } from './support/world.js';

/** The lifecycle policy with its approval section's lines replaced: alternates and times. */
const policyWith = (approval: string[]): string => readFileSync(LIFECYCLE_POLICY, 'utf8').replace(
  /approval:\n(?: {2}.*\n)+/, `approval:\n${approval.map((line) => `  ${line}`).join('\n')}\n`);

/** The escalations of a request as the audit log has them: what they say after, and why. */
const escalations = async (store: Store, request: string) => (await store.db.select().from(auditEvents)
  .where(and(eq(auditEvents.action, 'request.escalated'), eq(auditEvents.subjectId, request))).orderBy(asc(auditEvents.seq)))
  .map((row) => ({ seq: row.seq, ...(JSON.parse(row.canonical) as { after: Record<string, unknown>; reason: string | null }) }));

for (const backend of BACKENDS) {
  describe(`a stage that waits too long escalates to its alternates (${backend})`, () => {
    let store: Store;
    let w: World;
    beforeEach(async () => { store = await freshStore(backend); w = await buildWorld(store); });
    afterEach(async () => { await store.close(); });

    const ask = async (handle: string, entitlement = 'payments/read') =>
      (await createRequest(await w.as(handle), { entitlement, justification: 'escalation', duration: '2d' })).id;
    const inbox = async (handle: string) => (await listRequests(await w.as(handle), { view: 'inbox' })).map((r) => r.id);
    const escalate = () => escalateWaitingApprovals(w.worker);

    it('after three days the sponsor stage opens to its alternates once, audited, and an alternate may decide it', async () => {
      const request = await ask('eve');
      w.clock.advance(3 * DAY - HOUR);
      assert.equal(await escalate(), 0, 'not before approval.escalate_after');
      assert.ok(!(await inbox('selma')).includes(request));
      w.clock.advance(2 * HOUR);
      assert.equal(await escalate(), 1);
      assert.equal(await escalate(), 0, 'once per stage');
      assert.ok((await inbox('selma')).includes(request), 'the alternate sees it');
      assert.ok((await inbox('sam')).includes(request), 'the sponsor still may decide it');
      const [event] = await escalations(store, request);
      const after = event!.after;
      assert.deepEqual(after.escalatedToIds, [await w.id('selma')]);
      assert.deepEqual(after.kind, 'sponsor');
      assert.equal(after.waitingSince, '2030-01-01T09:00:00.000Z');
      assert.match(event!.reason ?? '', /waited longer than 3d \(approval\.escalate_after\)/);
      await approveRequest(await w.as('selma'), { request });
      assert.ok((await inbox('olivia')).includes(request), 'on to the system owners');
    });

    it('the next stage waits its own three days from the decision before it, and with no alternates escalates to nobody new, still once', async () => {
      const request = await ask('eve');
      w.clock.advance(2 * DAY);
      await approveRequest(await w.as('sam'), { request });
      w.clock.advance(2 * DAY);
      assert.equal(await escalate(), 0, 'the request is four days old, its owner stage two');
      w.clock.advance(DAY + HOUR);
      assert.equal(await escalate(), 1);
      const events = await escalations(store, request);
      assert.equal(events.length, 1);
      const after = events[0]!.after;
      assert.equal(after.kind, 'system_owner');
      assert.deepEqual(after.escalatedToIds, [], 'the policy names no owner-stage alternates: IAM is told instead (mail)');
      assert.deepEqual([...(after.approverIds as string[])].sort(), [await w.id('olivia'), await w.id('tom')].sort());
      assert.equal(await escalate(), 0);
    });

    it('escalation never opens a stage to the requester or beneficiary, even when the policy names them as alternates', async () => {
      await applyPolicyText(w, policyWith(['alternates:', '  sponsor: [eve, carl, group:secops]', '  security: [ivan]']));
      const request = await ask('eve');
      w.clock.advance(3 * DAY + HOUR);
      assert.equal(await escalate(), 1);
      const [stage] = await store.db.select().from(requestStages).where(eq(requestStages.requestId, request)).orderBy(asc(requestStages.position));
      assert.ok(!stage!.approverIds.includes(await w.id('eve')), 'the requester and beneficiary is not among the approvers');
      assert.ok(stage!.approverIds.includes(await w.id('carl')) && stage!.approverIds.includes(await w.id('selma')));
      assert.ok(!(await inbox('eve')).includes(request));
      await refusedWith(approveRequest(await w.as('eve'), { request }), 'request.self_approval_forbidden');
    });

    it('the policy sets the times: escalation after 12h, the reminder before it', async () => {
      await applyPolicyText(w, policyWith(['alternates:', '  sponsor: [group:secops]', 'remind_after: 4h', 'escalate_after: 12h']));
      const request = await ask('eve');
      w.clock.advance(11 * HOUR);
      assert.equal(await escalate(), 0);
      w.clock.advance(2 * HOUR);
      assert.equal(await escalate(), 1);
      assert.ok((await inbox('selma')).includes(request));
    });
  });
}

describe('escalation racing approvals on the PostgreSQL server', () => {
  it('a stage decided while escalation runs is never opened afterwards: every escalation comes before its stage\'s decision', async () => {
    const store = await freshStore('postgres');
    try {
      const w = await buildWorld(store);
      const requests: string[] = [];
      // Twelve people Sam manages, one pending request each (one per person and entitlement is the rule).
      const ada = await w.as('ada');
      for (let i = 0; i < 12; i += 1) {
        await createIdentity(ada, { handle: `racer-${i}`, displayName: `Racer ${i}`, kind: 'employee', manager: 'sam' });
        requests.push((await createRequest(await w.as(`racer-${i}`), { entitlement: 'payments/read', justification: 'race', duration: '2d' })).id);
      }
      w.clock.advance(3 * DAY + HOUR);
      await Promise.all([
        escalateWaitingApprovals(w.worker, { batchSize: 2 }), escalateWaitingApprovals(w.worker, { batchSize: 3 }),
        ...requests.map(async (request) => approveRequest(await w.as('sam'), { request })),
      ]);
      for (const request of requests) {
        const events = await store.db.select().from(auditEvents).where(eq(auditEvents.subjectId, request)).orderBy(asc(auditEvents.seq));
        const actions = events.map((e) => e.action);
        const escalated = actions.filter((a) => a === 'request.escalated').length;
        assert.ok(escalated <= 1, `escalated ${escalated} times`);
        const approvedAt = actions.indexOf('request.stage_approved');
        assert.ok(approvedAt >= 0, 'every approval went through');
        if (escalated === 1) assert.ok(actions.indexOf('request.escalated') < approvedAt, `escalated after its decision: ${actions.join(', ')}`);
        const [first] = await store.db.select().from(requestStages).where(eq(requestStages.requestId, request)).orderBy(asc(requestStages.position));
        assert.equal(first!.escalatedAt !== null, escalated === 1, 'the stage is marked escalated exactly when it was audited so');
      }
    } finally { await store.close(); }
  });
});

describe('escalation times in the policy', () => {
  const errorsOf = async (lines: string[]) => {
    const dir = mkdtempSync(join(tmpdir(), 'tenure-escalation-'));
    try {
      writeFileSync(join(dir, 'policy.yaml'), policyWith(lines));
      return (await validatePolicyFiles(join(dir, 'policy.yaml'))).errors;
    } finally { rmSync(dir, { recursive: true, force: true }); }
  };

  it('an escalation no later than the reminder, or a time that is not a duration, is refused at its field', async () => {
    const early = await errorsOf(['remind_after: 2d', 'escalate_after: 1d']);
    assert.deepEqual(early.map((e) => e.path), ['approval.escalate_after']);
    assert.match(early[0]!.message, /must be longer than remind_after/);
    const defaults = await errorsOf(['remind_after: 4d']);
    assert.deepEqual(defaults.map((e) => e.path), ['approval.escalate_after'], 'a reminder after the default escalation (3d) is refused too');
    const notDuration = await errorsOf(['escalate_after: soon']);
    assert.deepEqual(notDuration.map((e) => e.path), ['approval.escalate_after']);
    assert.deepEqual(await errorsOf(['remind_after: 12h', 'escalate_after: 2d']), []);
  });
});
