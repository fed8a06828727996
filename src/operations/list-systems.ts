import { and, desc, eq, inArray, isNotNull, lt, sql } from 'drizzle-orm';
import { DRIFT_KINDS } from '../domain/findings.js';
import { isReconcilable, OPEN_JOB_STATES, type JobState } from '../domain/provisioning.js';
import { connectorHealth } from '../domain/system-health.js';
import { loadAppliedPolicy } from '../policy/applied.js';
import { readsThatMayLag, type Executor } from '../store/database.js';
import { handlesById } from '../store/queries/identities.js';
import { entitlements, systems } from '../store/schema.js';
import { findings, provisioningJobs, reconciliationRuns } from '../store/schema-provisioning.js';
import { loadActor, may } from './authorize.js';
import type { Context } from '../work/context.js';

type SystemRow = typeof systems.$inferSelect;

/** Open jobs per system and state, overdue manual tasks, and retried jobs with the newest failure message, in three grouped reads. */
const jobFigures = async (exec: Executor, ids: string[], now: Date) => {
  const counts = await exec.select({ systemId: provisioningJobs.systemId, state: provisioningJobs.state, n: sql<number>`count(*)::int` })
    .from(provisioningJobs).where(and(inArray(provisioningJobs.systemId, ids), inArray(provisioningJobs.state, OPEN_JOB_STATES)))
    .groupBy(provisioningJobs.systemId, provisioningJobs.state);
  const overdue = await exec.select({ systemId: provisioningJobs.systemId, n: sql<number>`count(*)::int` }).from(provisioningJobs)
    .where(and(inArray(provisioningJobs.systemId, ids), eq(provisioningJobs.state, 'awaiting_confirmation'), lt(provisioningJobs.dueAt, now)))
    .groupBy(provisioningJobs.systemId);
  const errors = await exec.selectDistinctOn([provisioningJobs.systemId], { systemId: provisioningJobs.systemId,
    lastError: provisioningJobs.lastError, retrying: sql<number>`(count(*) over (partition by ${provisioningJobs.systemId}))::int` })
    .from(provisioningJobs)
    .where(and(inArray(provisioningJobs.systemId, ids), inArray(provisioningJobs.state, OPEN_JOB_STATES), isNotNull(provisioningJobs.lastError)))
    .orderBy(provisioningJobs.systemId, desc(provisioningJobs.seq));
  return { counts, overdue, errors };
};

const lastRuns = async (exec: Executor, ids: string[]) => exec.selectDistinctOn([reconciliationRuns.systemId]).from(reconciliationRuns)
  .where(inArray(reconciliationRuns.systemId, ids)).orderBy(reconciliationRuns.systemId, desc(reconciliationRuns.finishedAt));

const openDrift = async (exec: Executor, ids: string[]) => exec.select({ systemId: findings.systemId, n: sql<number>`count(*)::int` })
  .from(findings).where(and(inArray(findings.systemId, ids), eq(findings.status, 'open'), inArray(findings.kind, [...DRIFT_KINDS])))
  .groupBy(findings.systemId);

const unsafeConnectors = async (exec: Executor, ids: string[]): Promise<Set<string | null>> => new Set((await exec.select({ systemId: findings.systemId })
  .from(findings).where(and(inArray(findings.systemId, ids), eq(findings.status, 'open'), eq(findings.kind, 'connector_unsafe')))).map((f) => f.systemId));

/**
 * Systems with their owners and entitlements (everyone signed in may see these: they are what one
 * requests access to), and, for those who read provisioning or own the system, how its connector is
 * doing: open and failing jobs, overdue manual tasks, the last reconciliation and the drift still open.
 * Connector settings themselves (addresses, secret references) are never shown.
 */
export const listSystems = async (ctx: Context) => {
  const now = ctx.clock.now();
  // Who may see what is decided on the primary; the page itself is a report and may lag (docs/high-availability.md).
  const acting = await loadActor(ctx.store.db, ctx.actor.id);
  const exec = readsThatMayLag(ctx.store);
  const me = acting.identity.id;
  const readAll = may(acting, 'provisioning.read');
  const policy = await loadAppliedPolicy(exec);
  const rows = await exec.select().from(systems).where(eq(systems.retired, false)).orderBy(systems.key);
  const ids = rows.map((s) => s.id);
  if (ids.length === 0) return { items: [] };
  const ents = await exec.select().from(entitlements).where(and(inArray(entitlements.systemId, ids), eq(entitlements.retired, false)))
    .orderBy(entitlements.key);
  const handles = await handlesById(exec, rows.flatMap((s) => [s.businessOwnerId, s.technicalOwnerId]));
  const operable = rows.filter((s) => readAll || s.businessOwnerId === me || s.technicalOwnerId === me).map((s) => s.id);
  const [jobs, runs, drift, unsafe] = operable.length === 0 ? [undefined, [], [], new Set<string | null>()]
    : await Promise.all([jobFigures(exec, operable, now), lastRuns(exec, operable), openDrift(exec, operable), unsafeConnectors(exec, operable)]);
  const operations = (s: SystemRow) => {
    if (!operable.includes(s.id) || !jobs) return null;
    const provisioning = policy.provisioning?.systems[s.key];
    const byState: Partial<Record<JobState, number>> = {};
    for (const c of jobs.counts.filter((c) => c.systemId === s.id)) byState[c.state] = c.n;
    const run = runs.find((r) => r.systemId === s.id);
    const overdueTasks = jobs.overdue.find((o) => o.systemId === s.id)?.n ?? 0;
    const failed = jobs.errors.find((e) => e.systemId === s.id);
    const reconcileEveryMs = provisioning?.reconcile.everyMs ?? null;
    const openDriftFindings = drift.find((d) => d.systemId === s.id)?.n ?? 0;
    const lastRun = run ? { finishedAt: run.finishedAt, brakeHeld: run.brakeHeld } : null;
    return {
      connector: provisioning?.connector.type ?? 'manual', reconcileMode: isReconcilable(provisioning) ? provisioning.reconcile.mode : null,
      reconcileEveryMs: isReconcilable(provisioning) ? reconcileEveryMs : null,
      health: connectorHealth({ connector: provisioning?.connector.type ?? null, reconcilable: isReconcilable(provisioning),
        reconcileEveryMs, jobs: byState, retrying: failed?.retrying ?? 0, overdueTasks, lastRun, openDrift: openDriftFindings, unsafe: unsafe.has(s.id), now }),
      openJobs: byState, retrying: failed?.retrying ?? 0, overdueTasks, lastError: failed?.lastError ?? null,
      lastReconciliation: run ? { finishedAt: run.finishedAt, accounts: run.accounts, liveGrants: run.liveGrants,
        drift: run.drift as Record<string, number>, revoked: run.revoked, brakeHeld: run.brakeHeld } : null,
      openDriftFindings,
    };
  };
  return {
    items: rows.map((s) => ({
      key: s.key, name: s.name, criticality: s.criticality,
      businessOwner: handles.get(s.businessOwnerId) ?? null, technicalOwner: handles.get(s.technicalOwnerId) ?? null,
      entitlements: ents.filter((e) => e.systemId === s.id).map((e) => ({ key: e.key, name: e.name, tier: e.tier,
        // The name in the target is an operator's detail, shown with the rest of the operations.
        target: operable.includes(s.id) ? policy.provisioning?.systems[s.key]?.targets[e.key] ?? null : null })),
      operations: operations(s),
    })),
  };
};
