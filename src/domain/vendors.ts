/**
 * A vendor's contract end: the date after which nobody of the vendor, and nothing it operates, holds
 * access. Pure rules; the use cases and the worker apply them.
 */
import { MAX_DURATION_MS } from './durations.js';

/** A contract end more than ten years ahead is a typo more likely than a contract; the same bound as every duration. */
export const MAX_CONTRACT_AHEAD_MS = MAX_DURATION_MS;

export const CONTRACT_END_RULE = 'must be at most ten years (3660 days) from now';

/** Whether `end` is a contract end Tenure accepts at `now`: any past date (the end is now), or up to ten years ahead. */
export const contractEndAllowed = (end: Date, now: Date): boolean => end.getTime() - now.getTime() <= MAX_CONTRACT_AHEAD_MS;

/** Whether the contract end has come at `now` (an end at this very instant has). */
export const contractEnded = (end: Date, now: Date): boolean => end.getTime() <= now.getTime();

/**
 * Whether a vendor's contract is over at `now`: its end carried out, or come and waiting for the
 * worker's pass. Nothing new is put under such a vendor (an operated service account would only be suspended).
 */
export const contractOver = (vendor: { contractEnd: Date; endAppliedAt: Date | null }, now: Date): boolean =>
  vendor.endAppliedAt !== null || contractEnded(vendor.contractEnd, now);
