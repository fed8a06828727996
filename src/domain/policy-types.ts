import type { ApproverRules } from './approver-rules.js';
import type { DecisionSettings } from './decision-settings.js';
import type { EvidenceRule } from './evidence.js';
import type { IdentityKind, StageKind, Tier } from './model.js';
import type { BreakGlassSettings } from './break-glass.js';
import type { CredentialSettings } from './credentials.js';
import type { AccessProfile, HrSettings } from './hr.js';
import type { ProvisioningSettings } from './provisioning.js';
import type { ReviewSettings } from './reviews.js';

/** Maximum grant duration in milliseconds per identity kind, with `default` for kinds not named. */
export type DurationLimits = Partial<Record<IdentityKind, number>> & { default: number };

/**
 * The policy as the lifecycle reads it, stored in `policy_state.document` by `policy apply`.
 * Systems and entitlements live in their own tables and role holders in `role_assignments`;
 * this document holds the rest, with every person or group already resolved to identity ids.
 */
export interface AppliedPolicy {
  version: 1;
  durations: Record<Tier, DurationLimits>;
  requests: { pendingExpiresAfterMs: number };
  approval: {
    /** Which system owner approves the system-owner stage. */
    systemOwner: 'business' | 'technical' | 'either';
    /** Alternate approvers (identity ids) per stage, used when no primary approver is eligible. */
    alternates: Record<StageKind, string[]>;
    /** Who may approve whom (absent from documents applied before the rules: all on). */
    rules?: ApproverRules;
    /** How long a stage waits before its approvers are reminded, then before it escalates to the stage's alternates (absent from older documents: the defaults). */
    remindAfterMs?: number;
    escalateAfterMs?: number;
  };
  /** Nobody holds every entitlement of a rule together. */
  separationOfDuties: { name: string; entitlements: string[]; reason: string | null }[];
  /** What requests must carry by tier, kind and engagement pattern (absent before evidence rules: none). */
  evidence?: EvidenceRule[];
  /** Each entitlement's actions and conditions, read by the decision point (absent from documents applied before them). */
  decision?: DecisionSettings;
  /** Connectors, reconciliation and the brake (absent from documents applied before them: defaults apply). */
  provisioning?: ProvisioningSettings;
  /** Who may break the glass, on which entitlements, and who reviews (absent before break-glass existed: nobody may). */
  breakGlass?: BreakGlassSettings;
  /** Maximum age and rotation per kind of credential (absent before credentials existed: defaults apply). */
  credentials?: CredentialSettings;
  /** The HR feed's sources, brake and windows (absent before the feed existed: defaults apply). */
  hr?: HrSettings;
  /** Birthright: attribute rules to read and standard entitlements (absent: nobody gets birthright access). */
  accessProfiles?: AccessProfile[];
  /** Review campaigns on a schedule, and when event-driven reviews are due (absent: none scheduled). */
  reviews?: ReviewSettings;
  /** How long each system's proxied-session recordings are kept after the session ends, by system key (absent: kept). */
  recordingRetentionMs?: Record<string, number>;
}

export const DEFAULT_PENDING_EXPIRY_MS = 7 * 24 * 3600 * 1000;

/**
 * A stage that waits is first reminded to its approvers, then escalated: its alternates may decide it
 * too. A day and three days: a reminder on the next working day, escalation before a week-long
 * pending request lapses undecided.
 */
export const DEFAULT_APPROVAL_REMINDER_MS = 86_400_000;
export const DEFAULT_APPROVAL_ESCALATION_MS = 3 * 86_400_000;

export const approvalTimingOf = (policy: AppliedPolicy | undefined): { remindAfterMs: number; escalateAfterMs: number } => ({
  remindAfterMs: policy?.approval.remindAfterMs ?? DEFAULT_APPROVAL_REMINDER_MS,
  escalateAfterMs: policy?.approval.escalateAfterMs ?? DEFAULT_APPROVAL_ESCALATION_MS,
});
