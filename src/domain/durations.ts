import type { IdentityKind, Tier } from './model.js';
import type { AppliedPolicy } from './policy-types.js';
import { countOf } from './plural.js';

/** The longest a grant of this tier may last for this kind of identity; an entitlement may only shorten it. */
export const maxDurationMs = (
  policy: AppliedPolicy, tier: Tier, kind: IdentityKind, entitlementMaxMs: number | null,
): number => {
  const limits = policy.durations[tier];
  const tierMax = limits[kind] ?? limits.default;
  return entitlementMaxMs === null ? tierMax : Math.min(tierMax, entitlementMaxMs);
};

const UNITS: [number, string, string][] = [[86_400_000, 'd', 'day'], [3_600_000, 'h', 'hour'], [60_000, 'm', 'minute'], [1000, 's', 'second']];

/**
 * 8h, 30d, 1h30m (`compact`, for messages that echo what a policy or flag says), or 275 days,
 * 1 day 6 hours (`words`, for sentences people read). Words keep two units at most, one from ten
 * of the larger: "HR said so 275 days later" says what matters, the minutes do not.
 */
export const formatDuration = (ms: number, style: 'compact' | 'words' = 'compact'): string => {
  if (style === 'words') return inWords(ms);
  let rest = ms;
  const parts: string[] = [];
  for (const [size, unit] of UNITS) {
    const count = Math.floor(rest / size);
    if (count > 0) parts.push(`${count}${unit}`);
    rest -= count * size;
  }
  return parts.length > 0 ? parts.join('') : `${ms}ms`;
};

const inWords = (ms: number): string => {
  const first = UNITS.findIndex(([size]) => ms >= size);
  if (first === -1) return 'less than a second';
  const [size, , word] = UNITS[first]!;
  const count = Math.floor(ms / size);
  const next = UNITS[first + 1];
  const rest = next && count < 10 ? Math.floor((ms - count * size) / next[0]) : 0;
  return rest > 0 ? `${countOf(count, word)} ${countOf(rest, next![2])}` : countOf(count, word);
};
