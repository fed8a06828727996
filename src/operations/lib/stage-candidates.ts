import type { StageCandidates } from '../../domain/routing.js';
import type { StageKind } from '../../domain/model.js';
import type { AppliedPolicy } from '../../domain/policy-types.js';
import type { Executor } from '../../store/database.js';
import type { System } from '../../store/queries/catalogue.js';
import { activeIds, holdersOfRole, type Identity } from '../../store/queries/identities.js';

/** The person accountable for the beneficiary: sponsor for non-employees, owner for NHIs, manager for staff. */
export const accountableFor = (beneficiary: Identity): string | null => {
  if (beneficiary.kind === 'employee') return beneficiary.managerId;
  if (beneficiary.kind === 'service_account') return beneficiary.ownerId;
  return beneficiary.sponsorId;
};

const primaryFor = async (
  exec: Executor, policy: AppliedPolicy, kind: StageKind, beneficiary: Identity, system: System,
): Promise<string[]> => {
  if (kind === 'security') return holdersOfRole(exec, 'security');
  if (kind === 'sponsor') {
    const accountable = accountableFor(beneficiary);
    return activeIds(exec, accountable ? [accountable] : []);
  }
  const owners = policy.approval.systemOwner === 'business' ? [system.businessOwnerId]
    : policy.approval.systemOwner === 'technical' ? [system.technicalOwnerId]
      : [system.businessOwnerId, system.technicalOwnerId];
  return activeIds(exec, owners);
};

/** Who could decide a stage right now: read fresh at creation and again at every decision. */
export const stageCandidates = async (
  exec: Executor, policy: AppliedPolicy, kind: StageKind, beneficiary: Identity, system: System,
): Promise<StageCandidates> => ({
  kind,
  primary: await primaryFor(exec, policy, kind, beneficiary, system),
  alternates: await activeIds(exec, policy.approval.alternates[kind] ?? []),
});
