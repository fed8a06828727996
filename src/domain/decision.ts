/**
 * The decision point's rule: may this identity use this entitlement now, in this context? Pure:
 * the index hands over what it holds about the identity, the candidate entitlements and the time,
 * and gets an answer with a stable reason code. Only identity status, engagement status and end,
 * the grant's window and the entitlement's conditions deny; an inactive sponsor is reported as a
 * warning (the lifecycle lets a contractor's running grants run to their end when the sponsor leaves).
 * Before any of those, the attempt must be the identity's own: a service account with a person behind
 * it, or a credential presented by anyone but its holder, is denied whatever grants are held.
 */
import { failedCondition, type CompiledConditions, type DecisionContext } from './decision-conditions.js';
import type { IdentityKind, IdentityStatus, Tier } from './model.js';

export type { DecisionContext } from './decision-conditions.js';

export const DECISION_REASONS = [
  'grant_active', 'no_grant', 'grant_not_started', 'grant_ended', 'identity_inactive', 'engagement_inactive',
  'condition_mfa_required', 'condition_mfa_too_old', 'condition_trusted_device_required', 'condition_outside_hours', 'condition_ticket_required',
  'condition_source_not_allowed', 'index_stale', 'unknown_identity', 'unknown_entitlement',
  'human_use_of_service_account', 'credential_not_owned',
] as const;
export type DecisionReason = (typeof DECISION_REASONS)[number];

export const DECISION_WARNINGS = ['sponsor_inactive', 'index_stale'] as const;
export type DecisionWarning = (typeof DECISION_WARNINGS)[number];

export interface DecisionEngagement { id: string; status: string; startsAt: number; endsAt: number }

export interface DecisionGrant {
  id: string;
  status: string;
  startsAt: number;
  /** Infinity when the grant has no end (employees' birthright access). */
  endsAt: number;
  engagement: DecisionEngagement | null;
}

export interface DecisionIdentity {
  id: string;
  kind: IdentityKind;
  status: IdentityStatus;
}

export interface DecisionEntitlement {
  id: string;
  /** A small number naming the entitlement within one index, so matching grants is an integer compare. */
  ref: number;
  key: string;
  tier: Tier;
  conditions: CompiledConditions | null;
}

/** An active credential registered in Tenure, found by the fingerprint the caller presented. */
export interface DecisionCredential { id: string; identityId: string }

/** The grants the index holds for one identity and one entitlement (live, and recently ended). */
export interface GrantSource {
  grantsOf(identity: DecisionIdentity, entitlement: DecisionEntitlement): readonly DecisionGrant[];
}

export interface DecisionFacts {
  /** Undefined: no identity with that id or handle. */
  identity: DecisionIdentity | undefined;
  /** The entitlement asked about, or every entitlement of the system that lists the action; empty: unknown. */
  entitlements: readonly DecisionEntitlement[];
  /** Where the identity's grants are looked up, one entitlement at a time. */
  grants: GrantSource;
  /** Status of the non-employee's sponsor (undefined for employees and service accounts). */
  sponsorStatus: IdentityStatus | 'missing' | undefined;
  /** The index could not be refreshed within its bound: privileged access is refused. */
  stale: boolean;
  context: DecisionContext | undefined;
  /** The registered credential whose fingerprint the context presents; undefined: none presented, or not registered. */
  credential: DecisionCredential | undefined;
  now: number;
}

export interface Decision {
  decision: 'allow' | 'deny';
  reason: DecisionReason;
  entitlement: DecisionEntitlement | null;
  grant: { id: string; endsAt: Date | null } | null;
  warnings: DecisionWarning[];
}

/** Which deny explains best when several candidates deny: the one that came closest to allowing. */
const RANK: Partial<Record<DecisionReason, number>> = {
  unknown_entitlement: 0, no_grant: 1, grant_ended: 2, grant_not_started: 3, engagement_inactive: 4, index_stale: 5,
};
const rank = (reason: DecisionReason): number => RANK[reason] ?? 6;

const LIVE = (status: string) => status === 'active' || status === 'scheduled';

const engagementOpen = (engagement: DecisionEngagement | null, now: number): boolean =>
  engagement === null || (engagement.status === 'active' && engagement.startsAt <= now && now < engagement.endsAt);

interface Outcome { reason: DecisionReason; grant: DecisionGrant | null }

/** The best grant of one identity for one entitlement: open now, under an open engagement, ending last. */
const grantOutcome = (grants: readonly DecisionGrant[], now: number): Outcome => {
  let best: DecisionGrant | null = null;
  let reason: DecisionReason = 'no_grant';
  for (const grant of grants) {
    if (!LIVE(grant.status) || grant.endsAt <= now) {
      if (rank('grant_ended') > rank(reason)) reason = 'grant_ended';
    } else if (grant.startsAt > now) {
      if (rank('grant_not_started') > rank(reason)) reason = 'grant_not_started';
    } else if (!engagementOpen(grant.engagement, now)) {
      if (rank('engagement_inactive') > rank(reason)) reason = 'engagement_inactive';
    } else if (best === null || grant.endsAt > best.endsAt) best = grant;
  }
  return best ? { reason: 'grant_active', grant: best } : { reason, grant: null };
};

/** Shared by every answer without warnings (most of them): frozen, so no caller can change it for the others. */
const NO_WARNINGS = Object.freeze([]) as unknown as DecisionWarning[];

const deny = (reason: DecisionReason, entitlement: DecisionEntitlement | null, warnings = NO_WARNINGS): Decision =>
  ({ decision: 'deny', reason, entitlement, grant: null, warnings });

/** One candidate entitlement, for an identity already known to be active. */
const decideOne = (facts: DecisionFacts, identity: DecisionIdentity, entitlement: DecisionEntitlement, warnings: DecisionWarning[]): Decision => {
  if (facts.stale && entitlement.tier === 'privileged') return deny('index_stale', entitlement, warnings);
  const outcome = grantOutcome(facts.grants.grantsOf(identity, entitlement), facts.now);
  if (outcome.grant === null) return deny(outcome.reason, entitlement, warnings);
  const failed = entitlement.conditions ? failedCondition(entitlement.conditions, facts.context, facts.now) : undefined;
  if (failed) return deny(failed, entitlement, warnings);
  const endsAt = outcome.grant.endsAt === Infinity ? null : new Date(outcome.grant.endsAt);
  return { decision: 'allow', reason: 'grant_active', entitlement, grant: { id: outcome.grant.id, endsAt }, warnings };
};

const warningsOf = (facts: DecisionFacts): DecisionWarning[] => {
  const sponsorGone = facts.sponsorStatus !== undefined && facts.sponsorStatus !== 'active';
  if (!sponsorGone && !facts.stale) return NO_WARNINGS;
  const warnings: DecisionWarning[] = [];
  if (sponsorGone) warnings.push('sponsor_inactive');
  if (facts.stale) warnings.push('index_stale');
  return warnings;
};

/**
 * Whether the attempt is the identity's own. A machine neither logs in at a keyboard nor answers an
 * MFA prompt, so either signal on a service account means a person is using it; a credential
 * registered to another identity means someone borrowed it.
 */
const misuseOf = (identity: DecisionIdentity, facts: DecisionFacts): DecisionReason | undefined => {
  if (identity.kind === 'service_account' && (facts.context?.interactive === true || facts.context?.mfa === true)) {
    return 'human_use_of_service_account';
  }
  if (facts.credential !== undefined && facts.credential.identityId !== identity.id) return 'credential_not_owned';
  return undefined;
};

/**
 * The answer. Unknown identity or entitlement deny with their reason (a decision point always
 * answers); with several candidates (system + action), the first that allows wins, else the deny
 * that came closest to allowing.
 */
export const decide = (facts: DecisionFacts): Decision => {
  const { identity } = facts;
  if (identity === undefined) return deny('unknown_identity', facts.entitlements[0] ?? null);
  // Misuse is reported whatever is asked about: the finding it opens matters more than the entitlement.
  const misuse = misuseOf(identity, facts);
  if (misuse !== undefined) return deny(misuse, facts.entitlements[0] ?? null, warningsOf(facts));
  if (facts.entitlements.length === 0) return deny('unknown_entitlement', null);
  const warnings = warningsOf(facts);
  if (identity.status !== 'active') return deny('identity_inactive', facts.entitlements[0]!, warnings);
  let best: Decision | undefined;
  for (const entitlement of facts.entitlements) {
    const answer = decideOne(facts, identity, entitlement, warnings);
    if (answer.decision === 'allow') return answer;
    if (best === undefined || rank(answer.reason) > rank(best.reason)) best = answer;
  }
  return best!;
};
