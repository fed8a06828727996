import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { checkApprover, type ApprovalAttempt } from './approval-rules.js';
import { TenureError } from './errors.js';

const base: ApprovalAttempt = { actorId: 'olivia', requesterId: 'carl', beneficiaryId: 'carl', earlierDeciders: ['sam'], eligible: ['olivia', 'tom', 'sam'] };

describe('who may decide a stage', () => {
  const cases: { name: string; attempt: Partial<ApprovalAttempt>; refusal?: string }[] = [
    { name: 'an eligible owner who decided nothing yet may decide', attempt: {} },
    { name: 'the requester may not, even when routing lists them', attempt: { actorId: 'sam', requesterId: 'sam', beneficiaryId: 'carl', earlierDeciders: [] }, refusal: 'request.self_approval_forbidden' },
    { name: 'the beneficiary may not, even when someone else filed it', attempt: { actorId: 'carl', requesterId: 'sam', eligible: ['carl'] }, refusal: 'request.beneficiary_approval_forbidden' },
    { name: 'a person who approved the sponsor stage may not approve the owner stage', attempt: { actorId: 'sam' }, refusal: 'request.second_stage_forbidden' },
    { name: 'someone not routed to may not, whatever their role', attempt: { actorId: 'ada' }, refusal: 'request.not_an_approver' },
    { name: 'self-review is reported before anything else', attempt: { actorId: 'x', requesterId: 'x', beneficiaryId: 'x', earlierDeciders: ['x'], eligible: [] }, refusal: 'request.self_approval_forbidden' },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const run = () => checkApprover({ ...base, ...c.attempt });
      if (!c.refusal) { run(); return; }
      assert.throws(run, (e: unknown) => e instanceof TenureError && e.code === c.refusal);
    });
  }
});
