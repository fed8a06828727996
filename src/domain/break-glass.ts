/**
 * Break-glass: access at once, without prior approval, in an emergency; short, loud, and reviewed
 * after use by a named person who is not the user. Pure rules; operations/start-break-glass.ts
 * and operations/review-break-glass.ts apply them.
 */
import { TenureError } from './errors.js';

/** No break-glass grant lasts longer than this, whatever the policy says. */
export const BREAK_GLASS_HARD_MAX_MS = 4 * 3_600_000;
export const DEFAULT_REVIEW_DUE_MS = 24 * 3_600_000;

export interface BreakGlassSettings {
  /** Entitlement keys the policy marks `break_glass: true`. */
  entitlements: string[];
  /** Identities allowed to break the glass (groups resolved). */
  userIds: string[];
  /** Who reviews after use, in order of preference (groups resolved); the user is always skipped. */
  reviewerIds: string[];
  maxTtlMs: number;
  reviewDueMs: number;
}

export const REVIEW_OUTCOMES = ['appropriate', 'inappropriate'] as const;
export type ReviewOutcome = (typeof REVIEW_OUTCOMES)[number];
export const BREAK_GLASS_REVIEW_STATUSES = ['pending', ...REVIEW_OUTCOMES] as const;
export type BreakGlassReviewStatus = (typeof BREAK_GLASS_REVIEW_STATUSES)[number];

/** The grant's length: what was asked, else the maximum; never above the policy's maximum or 4 hours. */
export const breakGlassTtl = (requestedMs: number | undefined, settings: Pick<BreakGlassSettings, 'maxTtlMs'>): number => {
  const max = Math.min(settings.maxTtlMs, BREAK_GLASS_HARD_MAX_MS);
  if (requestedMs === undefined) return max;
  if (requestedMs > max) {
    throw new TenureError('breakglass.ttl_too_long', `ttl: break-glass access lasts at most ${max / 60_000} minutes`, { field: 'ttl' });
  }
  return requestedMs;
};

/**
 * The reviewer: the first of the candidates (the system's business owner, then its technical
 * owner, then the policy's reviewers) who is not the user and is an active person. Self-review is
 * ruled out before anything else; with nobody left, break-glass is refused rather than unreviewed.
 */
export const chooseReviewer = (userId: string, candidates: readonly (string | null | undefined)[], eligible: (id: string) => boolean): string => {
  const reviewer = candidates.find((id): id is string => !!id && id !== userId && eligible(id));
  if (!reviewer) throw new TenureError('breakglass.no_reviewer', 'nobody but the user could review this break-glass access: refused');
  return reviewer;
};

/** Where the evidence of a break-glass window stops (exclusive): its end, or now while it runs. */
export const windowEvidenceEnd = (endsAt: Date, now: Date): Date => new Date(Math.min(endsAt.getTime(), now.getTime()) + 1);
