import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { brokenApproverRule, DEFAULT_APPROVER_RULES, type ApprovalSubject, type ApproverFacts, type ApproverRules } from './approver-rules.js';

const sod = [{ name: 'maker-checker', entitlements: ['pay/initiate', 'pay/approve'], reason: null }];
const subject = (over: Partial<ApprovalSubject> = {}): ApprovalSubject =>
  ({ stage: 'system_owner', accountableIds: ['sam'], beneficiaryVendorIds: ['acme'], entitlementKey: 'pay/initiate', sod, ...over });
const person = (over: Partial<ApproverFacts> = {}): ApproverFacts => ({ id: 'olivia', vendorIds: [], holdsOrAsked: [], ...over });
const off = (name: keyof ApproverRules): ApproverRules => ({ ...DEFAULT_APPROVER_RULES, [name]: false });

describe('who may approve whom: the approver rules', () => {
  const cases: { name: string; rules?: ApproverRules; subject?: Partial<ApprovalSubject>; approver?: Partial<ApproverFacts>; broken: string | undefined }[] = [
    { name: 'an unrelated owner breaks no rule', broken: undefined },
    { name: 'the sponsor at the security stage', subject: { stage: 'security' }, approver: { id: 'sam' }, broken: 'accountable_not_security' },
    { name: 'the sponsor at the sponsor stage is expected', subject: { stage: 'sponsor' }, approver: { id: 'sam' }, broken: undefined },
    { name: 'the sponsor at the security stage, rule off', rules: off('accountableNotSecurity'), subject: { stage: 'security' }, approver: { id: 'sam' }, broken: undefined },
    { name: "someone of the beneficiary's vendor", approver: { vendorIds: ['other', 'acme'] }, broken: 'not_same_vendor' },
    { name: 'someone of another vendor', approver: { vendorIds: ['other'] }, broken: undefined },
    { name: 'a beneficiary with no vendor', subject: { beneficiaryVendorIds: [] }, approver: { vendorIds: ['acme'] }, broken: undefined },
    { name: "someone of the beneficiary's vendor, rule off", rules: off('notSameVendor'), approver: { vendorIds: ['acme'] }, broken: undefined },
    { name: 'a holder of the other side', approver: { holdsOrAsked: ['pay/approve'] }, broken: 'not_conflicting_holder' },
    { name: 'a holder of the same side', approver: { holdsOrAsked: ['pay/initiate'] }, broken: undefined },
    { name: 'a holder of the other side, rule off', rules: off('notConflictingHolder'), approver: { holdsOrAsked: ['pay/approve'] }, broken: undefined },
    { name: 'the first broken rule is reported', subject: { stage: 'security' }, approver: { id: 'sam', vendorIds: ['acme'] }, broken: 'accountable_not_security' },
  ];
  for (const c of cases) {
    it(`${c.name}: ${c.broken ?? 'allowed'}`, () => {
      assert.equal(brokenApproverRule(c.rules ?? DEFAULT_APPROVER_RULES, subject(c.subject), person(c.approver))?.rule, c.broken);
    });
  }
});
