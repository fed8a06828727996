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
  /** An account outside Tenure's naming rule is a direct member of a managed role or group: only Tenure grants those. */
  unmanaged_member: 'high',
  /** An account reaches a managed role or group through another role or group (nesting), not through a grant. */
  nested_access: 'high',
  /** An account Tenure manages can still sign in although its identity holds no live grant on the system. */
  login_without_grant: 'critical',
  /** An account Tenure manages can sign in past the end of the last of its identity's grants on the system. */
  login_outlives_grants: 'high',
  /** A session of a managed account that did not come through Tenure's access proxy: nothing recorded or attributed it. */
  session_outside_proxy: 'high',
  /** After an account's last removal it still owns or granted something in the target (tables, default privileges, memberships). */
  account_leftovers: 'high',
  /** The connector's own credentials can do far more than it needs (superuser, or a road to operating-system or all-data roles). */
  connector_unsafe: 'critical',
  /** A break-glass use was not reviewed in time: escalated to security. */
  breakglass_review_overdue: 'high',
  /** A reviewer judged a break-glass use inappropriate: the access was ended, security follows up. */
  breakglass_misuse: 'critical',
  /** A credential not rotated within its kind's rotation period. */
  credential_rotation_overdue: 'high',
  /** A credential that never expires. */
  credential_no_expiry: 'medium',
  /** A credential whose accountable owner is gone: nobody answers for it. */
  credential_owner_departed: 'high',
  /** A credential nobody used for the set number of days: a candidate for removal. */
  credential_unused: 'low',
  /** A person's credential of a service account was used by a human (the decision point saw a person behind it). */
  credential_human_use: 'critical',
  /** A credential flagged for retirement (its service account's vendor contract ended) is still active: revoke the secret, then retire it. */
  credential_retirement_due: 'high',
  /** Two HR sources describe one person differently: neither value was applied over the other. */
  hr_source_conflict: 'medium',
  /** An HR import or burst would suspend more people than the brake allows; security must confirm or discard it. */
  hr_feed_held: 'critical',
  /** Something a leaver owned or sponsored (a person, an engagement, a service account, a credential, a system) needs a new owner. */
  ownership_orphaned: 'high',
  /** A leave arrived after it took effect: access stayed open in between. */
  late_termination: 'high',
  /** A person holds every side of a separation-of-duties rule (granted before the rule, in an emergency, or by hand). */
  sod_conflict: 'high',
  /** Access profiles would give a person every side of a separation-of-duties rule: the later side was withheld. */
  birthright_withheld: 'medium',
  /** A person's HR attributes match no access profile: they get no birthright access until IAM looks. */
  hr_attributes_unmatched: 'low',
} as const;

export type FindingKind = keyof typeof FINDING_KINDS;
export const SEVERITIES = ['low', 'medium', 'high', 'critical'] as const;
export type Severity = (typeof SEVERITIES)[number];
/** `accepted`: security accepted the risk as an exception, until a date; then it is open again. */
export const FINDING_STATUSES = ['open', 'accepted', 'resolved'] as const;
export type FindingStatus = (typeof FINDING_STATUSES)[number];
/** How long the owner of a finding has to act, by severity, unless the policy says otherwise (provisioning.finding_due). */
export const DEFAULT_FINDING_DUE_MS: Record<Severity, number> = {
  critical: 24 * 3_600_000, high: 3 * 24 * 3_600_000, medium: 7 * 24 * 3_600_000, low: 30 * 24 * 3_600_000,
};

/** The longest an exception to a finding may last before security must look again. */
export const MAX_ACCEPTANCE_MS = 180 * 24 * 3_600_000;
export const isFindingKind = (value: string): value is FindingKind => Object.hasOwn(FINDING_KINDS, value);

/** The kinds reconciliation opens, and closes by itself when the drift is gone. */
export const DRIFT_KINDS: readonly FindingKind[] = [
  'access_without_grant', 'grant_without_access', 'access_of_inactive_identity', 'orphan_account', 'shared_account',
  'unmanaged_member', 'nested_access', 'login_without_grant', 'login_outlives_grants', 'session_outside_proxy',
];

/** The OWASP Non-Human Identities Top 10 (2025) risks findings point at. */
export const OWASP_NHI = {
  'NHI1:2025': 'Improper Offboarding',
  'NHI5:2025': 'Overprivileged NHI',
  'NHI7:2025': 'Long-Lived Secrets',
  'NHI9:2025': 'NHI Reuse',
  'NHI10:2025': 'Human Use of NHI',
} as const;

/** The NIST CSF 2.0 Identity Management, Authentication and Access Control outcomes findings point at. */
export const NIST_CSF = {
  'PR.AA-01': 'Identities and credentials for authorized users, services, and hardware are managed by the organization',
  'PR.AA-05': 'Access permissions, entitlements, and authorizations are defined in a policy, managed, enforced, and reviewed, and incorporate the principles of least privilege and separation of duties',
} as const;

export interface FrameworkMapping { owaspNhi: (keyof typeof OWASP_NHI)[]; nistCsf: (keyof typeof NIST_CSF)[] }

/** Which framework items each kind of finding is evidence for, so an auditor can file it. */
export const FINDING_FRAMEWORKS: Record<FindingKind, FrameworkMapping> = {
  provisioning_failed: { owaspNhi: ['NHI1:2025'], nistCsf: ['PR.AA-05'] },
  manual_task_overdue: { owaspNhi: ['NHI1:2025'], nistCsf: ['PR.AA-05'] },
  mass_revocation_held: { owaspNhi: [], nistCsf: ['PR.AA-05'] },
  access_without_grant: { owaspNhi: ['NHI1:2025', 'NHI5:2025'], nistCsf: ['PR.AA-05'] },
  grant_without_access: { owaspNhi: [], nistCsf: ['PR.AA-05'] },
  access_of_inactive_identity: { owaspNhi: ['NHI1:2025'], nistCsf: ['PR.AA-01', 'PR.AA-05'] },
  orphan_account: { owaspNhi: ['NHI1:2025'], nistCsf: ['PR.AA-01'] },
  shared_account: { owaspNhi: ['NHI9:2025', 'NHI10:2025'], nistCsf: ['PR.AA-01'] },
  unmanaged_member: { owaspNhi: ['NHI5:2025'], nistCsf: ['PR.AA-05'] },
  nested_access: { owaspNhi: ['NHI5:2025'], nistCsf: ['PR.AA-05'] },
  login_without_grant: { owaspNhi: ['NHI1:2025'], nistCsf: ['PR.AA-01', 'PR.AA-05'] },
  login_outlives_grants: { owaspNhi: ['NHI1:2025'], nistCsf: ['PR.AA-05'] },
  session_outside_proxy: { owaspNhi: [], nistCsf: ['PR.AA-05'] },
  connector_unsafe: { owaspNhi: ['NHI5:2025'], nistCsf: ['PR.AA-05'] },
  account_leftovers: { owaspNhi: ['NHI1:2025'], nistCsf: ['PR.AA-05'] },
  breakglass_review_overdue: { owaspNhi: [], nistCsf: ['PR.AA-05'] },
  breakglass_misuse: { owaspNhi: [], nistCsf: ['PR.AA-05'] },
  credential_rotation_overdue: { owaspNhi: ['NHI7:2025'], nistCsf: ['PR.AA-01'] },
  credential_no_expiry: { owaspNhi: ['NHI7:2025'], nistCsf: ['PR.AA-01'] },
  credential_owner_departed: { owaspNhi: ['NHI1:2025'], nistCsf: ['PR.AA-01'] },
  credential_unused: { owaspNhi: ['NHI1:2025'], nistCsf: ['PR.AA-01'] },
  credential_human_use: { owaspNhi: ['NHI10:2025'], nistCsf: ['PR.AA-01'] },
  credential_retirement_due: { owaspNhi: ['NHI1:2025'], nistCsf: ['PR.AA-01'] },
  hr_source_conflict: { owaspNhi: [], nistCsf: ['PR.AA-01'] },
  hr_feed_held: { owaspNhi: [], nistCsf: ['PR.AA-01'] },
  ownership_orphaned: { owaspNhi: ['NHI1:2025'], nistCsf: ['PR.AA-01', 'PR.AA-05'] },
  late_termination: { owaspNhi: [], nistCsf: ['PR.AA-01', 'PR.AA-05'] },
  hr_attributes_unmatched: { owaspNhi: [], nistCsf: ['PR.AA-05'] },
  sod_conflict: { owaspNhi: ['NHI5:2025'], nistCsf: ['PR.AA-05'] },
  birthright_withheld: { owaspNhi: [], nistCsf: ['PR.AA-05'] },
};
