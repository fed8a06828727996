import { brokenApproverRule, DEFAULT_APPROVER_RULES, type ApprovalSubject } from '../../../domain/approver-rules.js';
import type { StageCandidates } from '../../../domain/routing.js';
import type { StageKind } from '../../../domain/model.js';
import type { AppliedPolicy } from '../../../domain/policy-types.js';
import type { System } from '../../../store/queries/catalogue.js';
import { holdersOfRole, type Identity } from '../../../store/queries/identities.js';
import type { ApprovalReads } from './approval-reads.js';

/** The person accountable for the beneficiary: sponsor for non-employees, owner for NHIs, manager for staff. */
export const accountableFor = (beneficiary: Identity): string | null => {
  if (beneficiary.kind === 'employee') return beneficiary.managerId;
  if (beneficiary.kind === 'service_account') return beneficiary.ownerId;
  return beneficiary.sponsorId;
};

/** Whom a stage of `kind` names before anyone's standing is read; the security role's holders are read from the roles. */
const namedFor = (policy: AppliedPolicy, kind: Exclude<StageKind, 'security'>, beneficiary: Identity, system: System): string[] => {
  if (kind === 'sponsor') {
    const accountable = accountableFor(beneficiary);
    return accountable ? [accountable] : [];
  }
  return policy.approval.systemOwner === 'business' ? [system.businessOwnerId]
    : policy.approval.systemOwner === 'technical' ? [system.technicalOwnerId]
      : [system.businessOwnerId, system.technicalOwnerId];
};

const primaryFor = async (
  reads: ApprovalReads, policy: AppliedPolicy, kind: StageKind, beneficiary: Identity, system: System,
): Promise<string[]> => (kind === 'security' ? holdersOfRole(reads.exec, 'security') : reads.activeIds(namedFor(policy, kind, beneficiary, system)));

/**
 * Everyone the stages of `kinds` may name, beyond the security role's holders: the people a decision
 * asks about, read together at once (`ApprovalReads.prefetch`) rather than stage by stage.
 */
export const namedForStages = (policy: AppliedPolicy, kinds: readonly StageKind[], beneficiary: Identity, system: System): string[] =>
  kinds.flatMap((kind) => [...(kind === 'security' ? [] : namedFor(policy, kind, beneficiary, system)), ...(policy.approval.alternates[kind] ?? [])]);

/** The request a stage belongs to, as the approver rules see it. */
export const approvalSubject = async (
  reads: ApprovalReads, policy: AppliedPolicy, kind: StageKind, beneficiary: Identity, entitlementKey: string,
): Promise<ApprovalSubject> => ({
  stage: kind, entitlementKey, sod: policy.separationOfDuties,
  beneficiaryVendorIds: await reads.vendorsOf(beneficiary.id),
  accountableIds: [beneficiary.sponsorId, beneficiary.managerId, beneficiary.ownerId].filter((id): id is string => id !== null),
});

/** Who could decide a stage right now: read fresh at creation and again at every decision. */
export const stageCandidates = async (
  reads: ApprovalReads, policy: AppliedPolicy, kind: StageKind, beneficiary: Identity, system: System, entitlementKey: string,
): Promise<StageCandidates> => {
  const primary = await primaryFor(reads, policy, kind, beneficiary, system);
  const alternates = await reads.activeIds(policy.approval.alternates[kind] ?? []);
  // The approver rules (approval.rules) keep some candidates off: one read of everyone's facts.
  const subject = await approvalSubject(reads, policy, kind, beneficiary, entitlementKey);
  const rules = policy.approval.rules ?? DEFAULT_APPROVER_RULES;
  const kept = new Set((await reads.factsOf([...primary, ...alternates]))
    .filter((facts) => !brokenApproverRule(rules, subject, facts)).map((f) => f.id));
  return { kind, primary: primary.filter((id) => kept.has(id)), alternates: alternates.filter((id) => kept.has(id)) };
};

/**
 * Who may decide a stored stage now, parties excluded: its primaries, or with its alternates when it
 * was routed to them or its primaries are gone. The rule every decision checks (decision.ts) and the
 * one re-routing writes back into the stage (reroute-requests.ts), so the two cannot disagree.
 */
export const eligibleForStage = async (
  reads: ApprovalReads, policy: AppliedPolicy, stage: { kind: string; usesAlternates: boolean }, beneficiary: Identity, system: System,
  entitlementKey: string, exclude: (ids: readonly string[]) => string[],
): Promise<string[]> => {
  const fresh = await stageCandidates(reads, policy, stage.kind as StageKind, beneficiary, system, entitlementKey);
  return stage.usesAlternates || exclude(fresh.primary).length === 0
    ? exclude([...fresh.primary, ...fresh.alternates]) : exclude(fresh.primary);
};
