import type { IdentityKind, Tier } from './model.js';
import type { AppliedPolicy } from './policy-types.js';

/** The longest a grant of this tier may last for this kind of identity; an entitlement may only shorten it. */
export const maxDurationMs = (
  policy: AppliedPolicy, tier: Tier, kind: IdentityKind, entitlementMaxMs: number | null,
): number => {
  const limits = policy.durations[tier];
  const tierMax = limits[kind] ?? limits.default;
  return entitlementMaxMs === null ? tierMax : Math.min(tierMax, entitlementMaxMs);
};

const UNITS: [number, string][] = [[86_400_000, 'd'], [3_600_000, 'h'], [60_000, 'm'], [1000, 's']];

/** 8h, 30d, 1h30m: for messages. */
export const formatDuration = (ms: number): string => {
  let rest = ms;
  const parts: string[] = [];
  for (const [size, unit] of UNITS) {
    const count = Math.floor(rest / size);
    if (count > 0) parts.push(`${count}${unit}`);
    rest -= count * size;
  }
  return parts.length > 0 ? parts.join('') : `${ms}ms`;
};
