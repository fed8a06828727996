import { TenureError } from './errors.js';
import { formatDuration } from './durations.js';

export interface WindowInput { startsAt?: Date | undefined; endsAt?: Date | undefined; durationMs?: number | undefined }
export interface Window { startsAt: Date; endsAt: Date }

/**
 * A request's window: start (now if absent or past) and exactly one of an end or a duration. An end
 * is always required: Tenure grants nothing open-ended from a request.
 */
export const resolveWindow = (input: WindowInput, now: Date): Window => {
  if ((input.endsAt === undefined) === (input.durationMs === undefined)) {
    throw new TenureError('request.invalid_window', 'give exactly one of an end time or a duration', { field: 'endsAt' });
  }
  const startsAt = input.startsAt && input.startsAt.getTime() > now.getTime() ? input.startsAt : now;
  const endsAt = input.endsAt ?? new Date(startsAt.getTime() + (input.durationMs ?? 0));
  if (endsAt.getTime() <= startsAt.getTime()) {
    throw new TenureError('request.invalid_window', 'endsAt: must be after the start of the window', { field: 'endsAt' });
  }
  return { startsAt, endsAt };
};

/** The window may not be longer than the maximum, measured from when access actually begins. */
export const checkMaxDuration = (window: Window, now: Date, maxMs: number, what: string): void => {
  const begins = Math.max(window.startsAt.getTime(), now.getTime());
  if (window.endsAt.getTime() - begins > maxMs) {
    throw new TenureError('request.exceeds_max_duration',
      `endsAt: ${what} may last at most ${formatDuration(maxMs)}`, { field: 'endsAt' });
  }
};

/**
 * The window a request that asked for a length of time gets at its final approval: the clock starts
 * then, not at the request (a 2-hour request approved an hour later still gives 2 hours), and never
 * runs past `cap`, the end of the engagement the access lives in.
 */
export const windowAtApproval = (durationMs: number, now: Date, cap?: Date): Window => {
  const endsAt = new Date(now.getTime() + durationMs);
  return { startsAt: now, endsAt: cap && cap.getTime() < endsAt.getTime() ? cap : endsAt };
};
