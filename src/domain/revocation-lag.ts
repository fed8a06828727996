/**
 * Revocation lag: how long access stayed in a target after Tenure ended the grant. The clock starts
 * when the access was due to go (the grant's end, or the revocation if that came first) rather than
 * when a worker got round to it, so a late lifecycle pass counts against the lag instead of hiding it.
 */

export interface Removal {
  system: string;
  /** When the access should have stopped. */
  dueAt: Date;
  /** When the target confirmed the removal (connector read-back or a person's confirmation); null while it is still there. */
  removedAt: Date | null;
}

export interface LagFigures {
  removed: number;
  /** Removals not yet confirmed: the access may still be live in the target. */
  open: number;
  medianMs: number | null;
  p95Ms: number | null;
  maxMs: number | null;
  /** The due time of the oldest removal still open. */
  oldestOpenDueAt: Date | null;
}

export interface LagSummary extends LagFigures {
  byDay: ({ day: string } & Pick<LagFigures, 'removed' | 'medianMs' | 'maxMs'>)[];
  bySystem: ({ system: string } & LagFigures)[];
}

const DAY_MS = 86_400_000;

/** Nearest-rank percentile of sorted values; null for none. */
export const percentile = (sorted: readonly number[], p: number): number | null => {
  if (sorted.length === 0) return null;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1]!;
};

const figures = (removals: readonly Removal[]): LagFigures => {
  const lags = removals.filter((r) => r.removedAt).map((r) => Math.max(0, r.removedAt!.getTime() - r.dueAt.getTime())).sort((a, b) => a - b);
  const open = removals.filter((r) => !r.removedAt).map((r) => r.dueAt.getTime()).sort((a, b) => a - b);
  return {
    removed: lags.length, open: open.length, medianMs: percentile(lags, 50), p95Ms: percentile(lags, 95), maxMs: lags.at(-1) ?? null,
    oldestOpenDueAt: open.length > 0 ? new Date(open[0]!) : null,
  };
};

/** The lag over the window, per day the access was due (UTC, oldest first, every day present) and per system (worst first). */
export const summariseRevocationLag = (removals: readonly Removal[], now: Date, days: number): LagSummary => {
  const today = Math.floor(now.getTime() / DAY_MS) * DAY_MS;
  const byDay = Array.from({ length: days }, (_, i) => {
    const start = today - (days - 1 - i) * DAY_MS;
    const { removed, medianMs, maxMs } = figures(removals.filter((r) => r.dueAt.getTime() >= start && r.dueAt.getTime() < start + DAY_MS));
    return { day: new Date(start).toISOString().slice(0, 10), removed, medianMs, maxMs };
  });
  const systems = [...new Set(removals.map((r) => r.system))];
  const bySystem = systems.map((system) => ({ system, ...figures(removals.filter((r) => r.system === system)) }))
    .sort((a, b) => b.open - a.open || (b.maxMs ?? 0) - (a.maxMs ?? 0) || a.system.localeCompare(b.system));
  return { ...figures(removals), byDay, bySystem };
};
