import ms from 'ms';
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

/** Ten years: longer than any window, lifetime or notice Tenure has a use for; beyond it a typo is likelier. */
export const MAX_DURATION_MS = 3660 * 86_400_000;

export const DURATION_RULE = 'must be a positive duration with a unit, such as 15m, 8h or 30d, of at most 3660d';

/** A number and a unit (ms, s, m, h, d, w, y and their long forms): a bare number is refused, its unit would be a guess. */
const WITH_UNIT = /^\d{1,15}(\.\d{1,6})?\s?[a-z]{1,12}$/i;

/**
 * The one duration parser: policy, API, CLI, configuration. Answers the milliseconds, or the rule
 * the text breaks (for the caller to report with its own field and error). `ms` does the unit
 * arithmetic; the shape check here is what refuses "", "90", "-5m", "NaN" and "1e400d".
 */
export const parseDuration = (text: unknown): { ms: number } | { rule: string } => {
  if (typeof text !== 'string') return { rule: DURATION_RULE };
  const trimmed = text.trim();
  if (!WITH_UNIT.test(trimmed)) {
    return { rule: /^\d+(\.\d+)?$/.test(trimmed) ? `${DURATION_RULE}: '${trimmed}' has no unit` : DURATION_RULE };
  }
  const parsed = ms(trimmed as ms.StringValue) as number | undefined;
  if (typeof parsed !== 'number' || !Number.isFinite(parsed) || parsed < 1) return { rule: DURATION_RULE };
  if (parsed > MAX_DURATION_MS) return { rule: `${DURATION_RULE}: '${trimmed}' is longer` };
  return { ms: Math.round(parsed) };
};

/** The same, for configuration read at start-up: an Error naming the setting, or the milliseconds. */
export const durationSetting = (name: string, text: string): number => {
  const parsed = parseDuration(text);
  if ('rule' in parsed) throw new Error(`${name}: '${text.trim()}' ${parsed.rule}`);
  return parsed.ms;
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
