/**
 * Metrics of events this process sees (HTTP requests, decision-point answers, removals it records):
 * counters and histograms that live in memory, so they are per process. Prometheus adds up the
 * processes it scrapes; a process that restarts starts again from zero, which rate() expects.
 * Gauges that describe the whole service are read from the database at scrape time (database.ts).
 */
import { Counter, Histogram, Registry, type Metric } from 'prom-client';

/** Every label value here comes from a closed set: route templates, status codes, decision reasons, system keys of the policy. */
export const processRegistry = new Registry();

const httpRequests = new Counter({
  name: 'tenure_http_requests_total', help: 'HTTP requests answered, by method, route template and status code',
  labelNames: ['method', 'route', 'status'] as const, registers: [processRegistry],
});

const httpDuration = new Histogram({
  name: 'tenure_http_request_duration_seconds', help: 'Time from a request arriving to its answer being sent, by method and route template',
  labelNames: ['method', 'route'] as const, buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10], registers: [processRegistry],
});

const logLinesDropped = new Counter({
  name: 'tenure_log_lines_dropped_total', help: 'Log lines dropped because standard error was not read fast enough (more than 16 MiB waiting)',
  registers: [processRegistry],
});

export const countDroppedLogLines = (lines: number): void => { logLinesDropped.inc(lines); };

/**
 * Decision-point answers are counted into plain arrays and handed to the registry at scrape time:
 * prom-client's inc and observe build a label key and validate labels on every call, which cost as
 * much as the answer itself at a million answers a second.
 */
const DECISION_BUCKETS = [0.00001, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.05];
const slots = new Map<string, Map<string, number>>();
let decisionLabels: { decision: string; reason: string }[] = [];
let decisionCounts = new Float64Array(0);

const slotOf = (decision: string, reason: string): number => {
  let byReason = slots.get(decision);
  if (byReason === undefined) { byReason = new Map(); slots.set(decision, byReason); }
  let slot = byReason.get(reason);
  if (slot === undefined) {
    slot = decisionLabels.length;
    byReason.set(reason, slot);
    decisionLabels = [...decisionLabels, { decision, reason }];
    const grown = new Float64Array(slot + 1);
    grown.set(decisionCounts);
    decisionCounts = grown;
  }
  return slot;
};

new Counter({
  name: 'tenure_decisions_total', help: 'Decision-point answers, by decision and reason',
  labelNames: ['decision', 'reason'] as const, registers: [processRegistry],
  collect() {
    for (let slot = 0; slot < decisionCounts.length; slot += 1) {
      if (decisionCounts[slot]! > 0) this.inc(decisionLabels[slot]!, decisionCounts[slot]!);
      decisionCounts[slot] = 0;
    }
  },
});

/** Counts per bucket (not cumulative; the last is +Inf), and the sum, exported as prom-client exports a histogram. */
const durationCounts = new Float64Array(DECISION_BUCKETS.length + 1);
let durationSum = 0;

/** The index answers in microseconds; the buckets start low enough to see that, and reach far enough to see a stall. */
const DURATION = { name: 'tenure_decision_duration_seconds', help: 'Time the decision point took to answer a check, from the index in memory' };
processRegistry.registerMetric({
  ...DURATION, type: 'histogram', aggregator: 'sum',
  get() {
    let total = 0;
    const { name, help } = DURATION;
    const values: { labels: Record<string, number | string>; value: number; metricName: string }[] = [...DECISION_BUCKETS, '+Inf'].map((le, i) => {
      total += durationCounts[i]!;
      return { labels: { le }, value: total, metricName: `${name}_bucket` };
    });
    values.push({ labels: {}, value: durationSum, metricName: `${name}_sum` }, { labels: {}, value: total, metricName: `${name}_count` });
    return { name, help, type: 'histogram', values, aggregator: 'sum' };
  },
  reset() { durationCounts.fill(0); durationSum = 0; },
} as unknown as Metric);

/** From seconds (a connector removing at once) to a day (a manual task done late). */
const revocationLag = new Histogram({
  name: 'tenure_revocation_lag_seconds', help: 'Time from a grant\'s end to its removal being confirmed in the target, by system',
  labelNames: ['system'] as const, buckets: [1, 5, 15, 30, 60, 120, 300, 900, 1800, 3600, 14_400, 86_400], registers: [processRegistry],
});

const provisioningOutcomes = new Counter({
  name: 'tenure_provisioning_attempts_total', help: 'Provisioning job attempts this process made, by action and outcome',
  labelNames: ['action', 'outcome'] as const, registers: [processRegistry],
});

/** Requests no route matched are counted under one label, so a scanner's random paths do not each become a series. */
export const UNMATCHED_ROUTE = 'unmatched';

/**
 * The labelled series of each (method, route, status), looked up once: inc and observe with a
 * labels object validate and hash them on every call. Routes and statuses are closed sets, so this
 * stays small; nothing resets these metrics, which would orphan the series kept here.
 */
const httpSeries = new Map<string, { count: { inc(): void }; duration: { observe(seconds: number): void } }>();

export const observeHttpRequest = (method: string, route: string | undefined, status: number, seconds: number): void => {
  const key = `${method} ${status} ${route ?? UNMATCHED_ROUTE}`;
  let series = httpSeries.get(key);
  if (!series) {
    const labels = { method, route: route ?? UNMATCHED_ROUTE };
    series = { count: httpRequests.labels({ ...labels, status: String(status) }), duration: httpDuration.labels(labels) };
    httpSeries.set(key, series);
  }
  series.count.inc();
  series.duration.observe(seconds);
};

export const observeDecision = (decision: string, reason: string, seconds: number): void => {
  // The slot first: finding a new one replaces the array.
  const slot = slotOf(decision, reason);
  decisionCounts[slot]! += 1;
  let bucket = 0;
  while (bucket < DECISION_BUCKETS.length && seconds > DECISION_BUCKETS[bucket]!) bucket += 1;
  durationCounts[bucket]! += 1;
  durationSum += seconds;
};

/** A removal confirmed at `confirmedAt` that was due at `dueAt` (the grant's end, or its revocation if earlier). */
export const observeRevocation = (system: string, dueAt: Date, confirmedAt: Date): void => {
  revocationLag.observe({ system }, Math.max(0, (confirmedAt.getTime() - dueAt.getTime()) / 1000));
};

export const observeProvisioningAttempt = (action: string, outcome: string): void => {
  provisioningOutcomes.inc({ action, outcome });
};
