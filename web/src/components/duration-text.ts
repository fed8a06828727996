import type { Problem } from '../api/client';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

const plural = (n: number, unit: string) => `${n} ${unit}${n === 1 ? '' : 's'}`;

/**
 * A maximum window as people say it, stable from one second to the next: "90 days", "8 hours",
 * "30 minutes". Whole days from two days up (rounded down, so it is never more than is allowed).
 */
export const humanDuration = (ms: number): string => {
  if (ms >= 2 * DAY) return plural(Math.floor(ms / DAY), 'day');
  if (ms >= 2 * HOUR) return plural(Math.floor(ms / HOUR), 'hour');
  return plural(Math.max(1, Math.floor(ms / 60_000)), 'minute');
};

/**
 * The longest window a person may ask for. When their engagement's end is what limits it, the catalogue's
 * figure shrinks every second: the form then names the end instead of a number that ticks down.
 */
export const maximumText = (maxMs: number, engagementEndsAt: string | null | undefined, now = Date.now()): { text: string; untilEngagementEnd: boolean } => {
  const left = engagementEndsAt ? Date.parse(engagementEndsAt) - now : undefined;
  const untilEngagementEnd = left !== undefined && Math.abs(left - maxMs) < 5 * 60_000;
  return { text: untilEngagementEnd ? `until your engagement ends (about ${humanDuration(Math.round(maxMs / DAY) * DAY || maxMs)})` : humanDuration(maxMs), untilEngagementEnd };
};

/**
 * A refusal of the window in the words of the form, which asks for a duration: the API speaks of the
 * end it computed (`endsAt: … at most 90d`), a field the person never saw.
 */
export const durationProblemText = (problem: Problem, maximum: string | undefined): string => {
  if (problem.code === 'request.exceeds_max_duration') return `Too long: you may ask for at most ${maximum ?? 'the maximum shown above'}.`;
  if (problem.code === 'grant.exceeds_engagement_end') return 'Too long: access may not last beyond your engagement\'s end.';
  const rule = problem.errors?.find((e) => /duration|endsAt|startsAt/.test(e.field))?.rule ?? problem.detail;
  return `Duration ${rule.replace(/^(endsAt|startsAt|duration):\s*/, '').replace(/\bendsAt\b/g, 'the end')}`;
};
