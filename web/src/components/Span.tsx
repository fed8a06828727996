/** A length of time as people say it: 45s, 12m, 3h 5m, 2d 4h; a dash for none. */
export const spanText = (ms: number | null | undefined): string => {
  if (ms === null || ms === undefined) return '—';
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m`;
  const h = Math.floor(m / 60);
  if (h < 24) return m % 60 === 0 ? `${h}h` : `${h}h ${m % 60}m`;
  const d = Math.floor(h / 24);
  return h % 24 === 0 ? `${d}d` : `${d}d ${h % 24}h`;
};

const MINUTE = 60_000;
/** Steps a time axis may use: each a span people count in (never 8h 20m). */
const STEPS = [1, 5, 15, 30, 60, 120, 240, 360, 720, 1440, 2880, 10_080].map((m) => m * MINUTE);

/** Round ticks from 0 past `maxMs`, at most six of them, for a chart's time axis. */
export const spanTicks = (maxMs: number): number[] => {
  const step = STEPS.find((s) => maxMs / s <= 5) ?? Math.ceil(maxMs / 5 / STEPS.at(-1)!) * STEPS.at(-1)!;
  const count = Math.max(1, Math.ceil(maxMs / step));
  return Array.from({ length: count + 1 }, (_, i) => i * step);
};
