/**
 * Findings: conditions a person must look at, each with its evidence. The kinds are a closed list
 * so that dashboards, webhooks and tests agree on their names; each has a default severity. Pure.
 */
export const FINDING_KINDS = {
  /** A provisioning job keeps failing: the target does not match the grant. */
  provisioning_failed: 'high',
  /** A manual provisioning or removal task passed its due time. */
  manual_task_overdue: 'high',
  /** A batch or reconciliation would revoke more than the brake allows; security must confirm. */
  mass_revocation_held: 'high',
  /** Access exists in the target with no live grant behind it (including access re-added after removal). */
  access_without_grant: 'high',
  /** A live, provisioned grant whose access is missing from the target. */
  grant_without_access: 'medium',
  /** A suspended or terminated identity still has access in the target. */
  access_of_inactive_identity: 'critical',
  /** An account in the target that matches no identity. */
  orphan_account: 'high',
  /** An account whose name says it is shared or generic: nobody is accountable for what it does. */
  shared_account: 'medium',
  /** A break-glass use was not reviewed in time: escalated to security. */
  breakglass_review_overdue: 'high',
  /** A reviewer judged a break-glass use inappropriate: the access was ended, security follows up. */
  breakglass_misuse: 'critical',
} as const;

export type FindingKind = keyof typeof FINDING_KINDS;
export type Severity = 'low' | 'medium' | 'high' | 'critical';
export const isFindingKind = (value: string): value is FindingKind => Object.hasOwn(FINDING_KINDS, value);

/** The kinds reconciliation opens, and closes by itself when the drift is gone. */
export const DRIFT_KINDS: readonly FindingKind[] = [
  'access_without_grant', 'grant_without_access', 'access_of_inactive_identity', 'orphan_account', 'shared_account',
];
