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

/** Lags (ms) of confirmed removals and due times (ms) of open ones, gathered in one pass. */
interface Bucket { lags: number[]; openDue: number[] }
const bucket = (): Bucket => ({ lags: [], openDue: [] });
const add = (b: Bucket, r: Removal) => {
  if (r.removedAt) b.lags.push(Math.max(0, r.removedAt.getTime() - r.dueAt.getTime()));
  else b.openDue.push(r.dueAt.getTime());
};

const figures = ({ lags, openDue }: Bucket): LagFigures => {
  const sorted = [...lags].sort((a, b) => a - b);
  return {
    removed: sorted.length, open: openDue.length, medianMs: percentile(sorted, 50), p95Ms: percentile(sorted, 95), maxMs: sorted.at(-1) ?? null,
    oldestOpenDueAt: openDue.length > 0 ? new Date(openDue.reduce((a, b) => Math.min(a, b))) : null,
  };
};

/** The lag over the window, per day the access was due (UTC, oldest first, every day present) and per system (worst first). */
export const summariseRevocationLag = (removals: readonly Removal[], now: Date, days: number): LagSummary => {
  const today = Math.floor(now.getTime() / DAY_MS) * DAY_MS;
  const first = today - (days - 1) * DAY_MS;
  const all = bucket();
  const byDay = Array.from({ length: days }, bucket);
  const bySystem = new Map<string, Bucket>();
  for (const r of removals) {
    add(all, r);
    const day = Math.floor((r.dueAt.getTime() - first) / DAY_MS);
    if (day >= 0 && day < days) add(byDay[day]!, r);
    if (!bySystem.has(r.system)) bySystem.set(r.system, bucket());
    add(bySystem.get(r.system)!, r);
  }
  return {
    ...figures(all),
    byDay: byDay.map((b, i) => {
      const { removed, medianMs, maxMs } = figures(b);
      return { day: new Date(first + i * DAY_MS).toISOString().slice(0, 10), removed, medianMs, maxMs };
    }),
    bySystem: [...bySystem].map(([system, b]) => ({ system, ...figures(b) }))
      .sort((a, b) => b.open - a.open || (b.maxMs ?? 0) - (a.maxMs ?? 0) || a.system.localeCompare(b.system)),
  };
};
