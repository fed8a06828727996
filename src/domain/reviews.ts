/**
 * Access review campaigns (certifications): which grants, who reviews them, and what happens to an
 * item nobody decides. Pure rules; the operations and the close job use them.
 */
import type { IdentityKind } from './model.js';
import { isNonEmployee } from './model.js';

export const CAMPAIGN_TRIGGERS = ['schedule', 'ad_hoc', 'engagement_renewal', 'mover', 'offboarding'] as const;
export type CampaignTrigger = (typeof CAMPAIGN_TRIGGERS)[number];

/** Which grants a campaign covers. */
export const CAMPAIGN_SCOPES = ['non_employee', 'privileged', 'system', 'engagement', 'all'] as const;
export type CampaignScope = (typeof CAMPAIGN_SCOPES)[number];

/** Who reviews each item. */
export const REVIEWER_RULES = ['sponsor', 'system_owner', 'manager'] as const;
export type ReviewerRule = (typeof REVIEWER_RULES)[number];

export const REVIEW_DECISIONS = ['keep', 'revoke', 'shorten'] as const;
export type ReviewDecision = (typeof REVIEW_DECISIONS)[number];

export const UNDECIDED_ACTIONS = ['keep', 'revoke'] as const;
export type UndecidedAction = (typeof UNDECIDED_ACTIONS)[number];
export const ITEM_STATUSES = ['pending', 'kept', 'revoked', 'shortened', 'defaulted_keep', 'defaulted_revoke', 'void'] as const;
export type ItemStatus = (typeof ITEM_STATUSES)[number];
export const CAMPAIGN_STATUSES = ['open', 'closed'] as const;
export type CampaignStatus = (typeof CAMPAIGN_STATUSES)[number];

/** What a reviewer sees to decide, snapshotted when the item is created (last use is read live too). */
export interface ReviewEvidence {
  entitlement: string;
  tier: string;
  holder: { handle: string; kind: IdentityKind };
  grantedAt: string;
  endsAt: string | null;
  origin: string;
  /** Who approved each stage of the request that gave the grant (empty for birthright and break-glass). */
  approvals: { stage: string; approver: string | null; decidedAt: string | null }[];
  engagement: { id: string; purpose: string; endsAt: string } | null;
  lastUsedAt: string | null;
}

/** The default when the campaign does not say: non-employees lose what nobody vouched for; employees keep it. */
export const defaultUndecided = (kind: IdentityKind): UndecidedAction => (isNonEmployee(kind) || kind === 'service_account' ? 'revoke' : 'keep');

/** A campaign the policy file defines: run every `everyMs`, due `dueInMs` after it starts. */
export interface PolicyCampaign {
  key: string;
  grants: CampaignScope;
  /** For `grants: system`: the system's key. */
  system: string | null;
  reviewer: ReviewerRule;
  everyMs: number;
  dueInMs: number;
  /** What happens to undecided items; null: revoke for non-employees and service accounts, keep for employees. */
  undecided: UndecidedAction | null;
}

export interface ReviewSettings {
  campaigns: PolicyCampaign[];
  /** When reviews opened by events (mover, offboarding, renewal) are due. */
  eventDueInMs: number;
  /** How long before a campaign is due each undecided item's reviewer is reminded (absent from older documents: the default). */
  remindBeforeMs?: number;
}

/** Two days: time to decide before the campaign's default (keep or revoke) decides instead. */
export const DEFAULT_REVIEW_REMINDER_MS = 2 * 86_400_000;
export const DEFAULT_REVIEW_SETTINGS: ReviewSettings = { campaigns: [], eventDueInMs: 7 * 24 * 3_600_000, remindBeforeMs: DEFAULT_REVIEW_REMINDER_MS };
