import type { StageKind } from './model.js';
import { findSodConflict, type SodRule } from './separation-of-duties.js';

/**
 * Who may approve whom, beyond "no party decides": rules a security team expects from day one, each
 * on by default and switched off only by name in the policy (`approval.rules`). Pure: the caller
 * loads the facts; this module says which rule, if any, keeps a candidate from a stage.
 */
export interface ApproverRules {
  /** The beneficiary's sponsor, manager or owner never decides the security stage: the guardrail is someone else's. */
  accountableNotSecurity: boolean;
  /** Nobody who works for the beneficiary's vendor approves any stage: a vendor does not vouch for its own staff. */
  notSameVendor: boolean;
  /** Nobody who holds, or has asked for, the other side of a separation-of-duties rule approves this side. */
  notConflictingHolder: boolean;
}

export const DEFAULT_APPROVER_RULES: ApproverRules = { accountableNotSecurity: true, notSameVendor: true, notConflictingHolder: true };

/** The policy's names for the rules, in the order they are checked. */
export const APPROVER_RULE_NAMES = {
  accountableNotSecurity: 'accountable_not_security',
  notSameVendor: 'not_same_vendor',
  notConflictingHolder: 'not_conflicting_holder',
} as const satisfies Record<keyof ApproverRules, string>;

/** What the rules need to know about the request and its stage. */
export interface ApprovalSubject {
  stage: StageKind;
  /** The beneficiary's sponsor, manager and owner (whichever are set). */
  accountableIds: readonly string[];
  /** The vendors the beneficiary works for (on their record, and through active engagements). */
  beneficiaryVendorIds: readonly string[];
  entitlementKey: string;
  sod: readonly SodRule[];
}

/** What the rules need to know about a candidate approver. */
export interface ApproverFacts {
  id: string;
  vendorIds: readonly string[];
  /** Entitlement keys held (scheduled or active grants) or asked for (pending requests). */
  holdsOrAsked: readonly string[];
}

export interface BrokenApproverRule { rule: (typeof APPROVER_RULE_NAMES)[keyof ApproverRules]; reason: string }

/** The first rule that keeps this candidate from deciding this stage, or undefined when none does. */
export const brokenApproverRule = (
  rules: ApproverRules, subject: ApprovalSubject, approver: ApproverFacts,
): BrokenApproverRule | undefined => {
  if (rules.accountableNotSecurity && subject.stage === 'security' && subject.accountableIds.includes(approver.id)) {
    return { rule: 'accountable_not_security', reason: "you sponsor, manage or own the beneficiary, so the security stage is someone else's" };
  }
  if (rules.notSameVendor && approver.vendorIds.some((id) => subject.beneficiaryVendorIds.includes(id))) {
    return { rule: 'not_same_vendor', reason: "you work for the beneficiary's vendor, so you cannot approve their access" };
  }
  const conflict = rules.notConflictingHolder ? findSodConflict(subject.sod, subject.entitlementKey, approver.holdsOrAsked) : undefined;
  if (conflict) {
    return { rule: 'not_conflicting_holder',
      reason: `you hold or have asked for ${conflict.conflictsWith}, the other side of ${conflict.rule.name}, so you cannot approve ${subject.entitlementKey}` };
  }
  return undefined;
};
