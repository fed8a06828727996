/**
 * Gauges of the whole service, read from the database when Prometheus scrapes: the same from any
 * process, whichever serve or worker answers. Each is one aggregate query over rows that are few by
 * nature (open jobs, pending requests and deliveries, open findings) and reached by an index, never
 * over the history of done jobs or delivered webhooks, so a scrape stays cheap as the tables grow.
 */
import { sql } from 'drizzle-orm';
import { Gauge, Registry } from 'prom-client';
import { OPEN_JOB_STATES } from '../domain/provisioning.js';
import { rawRows, type Store } from '../store/database.js';

/** What the metrics need of a decision point: whether it is stale and when it last refreshed. */
export interface DecisionIndexState { stale: boolean; lastRefreshAt: Date | null }

/** The domain's list of states with work left, as an SQL list: the gauges count what the job pages call open. */
const OPEN_STATES = sql`(${sql.join(OPEN_JOB_STATES.map((state) => sql`${state}`), sql`, `)})`;

const secondsSince = (now: Date, at: Date | string | null): number | undefined =>
  at === null ? undefined : Math.max(0, (now.getTime() - new Date(at).getTime()) / 1000);

type Set = (name: string, help: string, labelNames: string[], rows: { labels?: Record<string, string>; value: number }[]) => void;

const removals = async (store: Store, now: Date, set: Set) => {
  // Due when the grant's end came, or when it was revoked if that was first (least() skips a NULL; as measureRevocationLag counts it).
  const rows = await rawRows<{ system: string; n: number; oldest: Date | string | null }>(store.db, sql`
    SELECT s.key AS system, count(*)::int AS n, min(least(g.ends_at, g.ended_at)) AS oldest
      FROM systems s JOIN provisioning_jobs j ON j.system_id = s.id AND j.action = 'deprovision' AND j.state IN ${OPEN_STATES}
      JOIN grants g ON g.id = j.grant_id
     GROUP BY s.key`);
  set('tenure_removals_unconfirmed', 'Removals of ended grants not yet confirmed gone from the target, by system', ['system'],
    rows.map((r) => ({ labels: { system: r.system }, value: r.n })));
  set('tenure_removal_oldest_unconfirmed_seconds', 'Age of the oldest removal not yet confirmed, counted from the grant\'s end, by system', ['system'],
    rows.map((r) => ({ labels: { system: r.system }, value: secondsSince(now, r.oldest) ?? 0 })));
};

const jobs = async (store: Store, set: Set) => {
  // From systems, so the (system_id, state) index answers: done jobs, the bulk of the table, are never read.
  const rows = await rawRows<{ state: string; action: string; n: number }>(store.db, sql`
    SELECT j.state, j.action, count(*)::int AS n
      FROM systems s JOIN provisioning_jobs j ON j.system_id = s.id AND j.state IN ${OPEN_STATES}
     GROUP BY j.state, j.action`);
  set('tenure_provisioning_jobs', 'Provisioning jobs with work left in them, by state (failing: retrying after a failed attempt) and action', ['state', 'action'],
    rows.map((r) => ({ labels: { state: r.state, action: r.action }, value: r.n })));
};

const findingsAndBrakes = async (store: Store, set: Set) => {
  const rows = await rawRows<{ kind: string; severity: string; n: number }>(store.db, sql`
    SELECT kind, severity, count(*)::int AS n FROM findings WHERE status = 'open' GROUP BY kind, severity`);
  set('tenure_findings_open', 'Open findings, by kind and severity', ['kind', 'severity'], rows.map((r) => ({ labels: { kind: r.kind, severity: r.severity }, value: r.n })));
  const brakes = await rawRows<{ system: string; n: number }>(store.db, sql`
    SELECT s.key AS system, count(*)::int AS n FROM findings f JOIN systems s ON s.id = f.system_id
     WHERE f.status = 'open' AND f.kind = 'mass_revocation_held' GROUP BY s.key`);
  set('tenure_brakes_held', 'Mass-revocation brakes holding removals until security confirms, by system', ['system'],
    brakes.map((r) => ({ labels: { system: r.system }, value: r.n })));
};

const approvals = async (store: Store, now: Date, set: Set) => {
  // A pending request waits on its first pending stage; one with none left (a race with the decision) shows as `none`.
  const rows = await rawRows<{ stage: string; n: number; oldest: Date | string | null }>(store.db, sql`
    SELECT coalesce(st.kind, 'none') AS stage, count(*)::int AS n, min(r.created_at) AS oldest
      FROM access_requests r
      LEFT JOIN LATERAL (SELECT kind FROM request_stages WHERE request_id = r.id AND status = 'pending' ORDER BY position LIMIT 1) st ON true
     WHERE r.status = 'pending'
     GROUP BY 1`);
  set('tenure_requests_pending', 'Access requests waiting for a decision, by the stage they wait on', ['stage'],
    rows.map((r) => ({ labels: { stage: r.stage }, value: r.n })));
  set('tenure_approval_oldest_pending_seconds', 'Age of the oldest request waiting for a decision, by the stage it waits on', ['stage'],
    rows.map((r) => ({ labels: { stage: r.stage }, value: secondsSince(now, r.oldest) ?? 0 })));
};

const webhooks = async (store: Store, now: Date, set: Set) => {
  const [row] = await rawRows<{ n: number; retrying: number; oldest: Date | string | null }>(store.db, sql`
    SELECT count(*)::int AS n, (count(*) FILTER (WHERE attempts > 0))::int AS retrying, min(created_at) AS oldest
      FROM webhook_deliveries WHERE status = 'pending'`);
  set('tenure_webhook_backlog', 'Webhook deliveries not yet delivered', [], [{ value: row?.n ?? 0 }]);
  set('tenure_webhook_deliveries_retrying', 'Undelivered webhook deliveries whose last attempt failed', [], [{ value: row?.retrying ?? 0 }]);
  set('tenure_webhook_oldest_pending_seconds', 'Age of the oldest webhook delivery not yet delivered (0 when none)', [],
    [{ value: secondsSince(now, row?.oldest ?? null) ?? 0 }]);
};

/**
 * How far each SIEM stream is behind the audit head (siem/stream.ts): events not yet accepted, and the
 * age of the oldest of them. A target appears once it has run; an outage shows as a growing age.
 */
const siemStreams = async (store: Store, now: Date, set: Set) => {
  const rows = await rawRows<{ target: string; behind: string | number; oldest: Date | string | null }>(store.db, sql`
    SELECT substr(c.name, 6) AS target, h.seq - c.seq AS behind, e.occurred_at AS oldest
      FROM feed_cursors c CROSS JOIN audit_head h LEFT JOIN audit_events e ON e.seq = c.seq + 1
     WHERE c.name LIKE 'siem:%' AND c.name NOT LIKE '%:lease'`);
  set('tenure_siem_backlog_events', 'Audit events the SIEM target has not accepted yet', ['target'],
    rows.map((r) => ({ labels: { target: r.target }, value: Math.max(0, Number(r.behind)) })));
  set('tenure_siem_oldest_unsent_seconds', 'Age of the oldest audit event the SIEM target has not accepted (0 when none)', ['target'],
    rows.map((r) => ({ labels: { target: r.target }, value: secondsSince(now, r.oldest) ?? 0 })));
};

/**
 * A registry holding the service's gauges as the database shows them at `now`, plus the decision
 * index of this process when it runs one. A database that does not answer is a metric of its own
 * (tenure_metrics_database_up 0), not a failed scrape: the process metrics still arrive.
 */
export const databaseMetrics = async (store: Store, now: Date, decision?: () => DecisionIndexState): Promise<Registry> => {
  const registry = new Registry();
  const set: Set = (name, help, labelNames, rows) => {
    const gauge = new Gauge({ name, help, labelNames, registers: [registry] });
    for (const row of rows) gauge.set(row.labels ?? {}, row.value);
  };
  let up = 1;
  try {
    await removals(store, now, set);
    await jobs(store, set);
    await findingsAndBrakes(store, set);
    await approvals(store, now, set);
    await webhooks(store, now, set);
    await siemStreams(store, now, set);
  } catch {
    up = 0;
  }
  set('tenure_metrics_database_up', 'Whether the database answered the queries of this scrape (1) or not (0)', [], [{ value: up }]);
  if (decision) {
    const state = decision();
    set('tenure_decision_index_stale', 'Whether this process\'s decision index is past its staleness bound and failing closed (1) or not (0)', [],
      [{ value: state.stale ? 1 : 0 }]);
    set('tenure_decision_index_age_seconds', 'Time since this process\'s decision index last refreshed from the database', [],
      [{ value: secondsSince(now, state.lastRefreshAt) ?? 0 }]);
  }
  return registry;
};
