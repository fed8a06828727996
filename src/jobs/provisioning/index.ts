/**
 * One provisioning pass: retire overtaken jobs, apply the brake, then claim and run due jobs batch
 * after batch until none is due, and flag manual tasks past their due time. Safe to run in several
 * processes at once: claims use SKIP LOCKED and a lease.
 */
import { sql } from 'drizzle-orm';
import type { Connector } from '../../connectors/contract.js';
import { connectorFor } from '../../connectors/registry.js';
import { inTransaction, type Context, type Work } from '../../work/context.js';
import { openFinding } from '../../operations/lib/provisioning/findings.js';
import { provisioningSettings } from '../../operations/lib/provisioning/settings.js';
import { rawRows } from '../../store/database.js';
import { applyBrake, claimJobs, supersedeOvertakenJobs, type ClaimedJob } from './claim.js';
import { DEFAULT_LEASE_MS, JobLeases } from './lease.js';
import { SuccessRecorder } from './record-success.js';
import { runJob, type JobResult } from './run-job.js';
import { observeProvisioningAttempt } from '../../metrics/process.js';

export interface ProvisioningPassOptions {
  batchSize?: number;
  /** How long a claim lasts without renewal; this worker renews it while it runs, so past it the worker is gone and another may take the job over. */
  leaseMs?: number;
  /** Tests only: stop after this many batches. */
  maxBatches?: number;
}

export interface ProvisioningPassResult {
  superseded: number; held: number; done: number; failed: number; tasksOpened: number; overdueTasks: number;
}

export { DEFAULT_LEASE_MS };

/** Manual tasks past due become findings for the system's technical owner (removal overdue is the serious one). */
const flagOverdueTasks = async (work: Work): Promise<number> => {
  const overdue = await rawRows<{ id: string; grant_id: string; identity_id: string; system_id: string; action: string; due_at: Date;
    owner: string; handle: string; system_key: string }>(work.tx, sql`
    SELECT j.id, j.grant_id, j.identity_id, j.system_id, j.action, j.due_at, s.technical_owner_id AS owner, i.handle, s.key AS system_key
      FROM provisioning_jobs j JOIN systems s ON s.id = j.system_id JOIN identities i ON i.id = j.identity_id
     WHERE j.state = 'awaiting_confirmation' AND j.due_at < ${work.now.toISOString()}`);
  let opened = 0;
  for (const task of overdue) {
    const removal = task.action === 'deprovision';
    const result = await openFinding(work, {
      kind: 'manual_task_overdue', key: `manual_task_overdue:${task.id}`, severity: removal ? 'high' : 'medium',
      systemId: task.system_id, identityId: task.identity_id, grantId: task.grant_id, jobId: task.id, ownerId: task.owner,
      dueAt: new Date(task.due_at),
      summary: `${removal ? 'removal' : 'provisioning'} of ${task.handle} on ${task.system_key} was due ${new Date(task.due_at).toISOString()} and is not confirmed`,
      evidence: { jobId: task.id, action: task.action, dueAt: new Date(task.due_at) },
    });
    if (result.opened) opened += 1;
  }
  return opened;
};

/** People whose jobs run at once in a pass; each connector keeps as many connections to its target. */
const PARALLEL_PEOPLE = 4;

/**
 * Runs the batch `parallel` people at a time, each person's jobs on one system in their claimed
 * order, one after the other: the connector computes an account's state from all of that person's
 * grants there, so two of their jobs must never run at once (claimJobs holds the same rule across batches).
 */
const eachPersonInTurn = async (jobs: ClaimedJob[], parallel: number, run: (job: ClaimedJob) => Promise<void>): Promise<void> => {
  const byPerson = new Map<string, ClaimedJob[]>();
  for (const job of jobs) {
    const key = `${job.identity_id}:${job.system_id}`;
    byPerson.set(key, [...(byPerson.get(key) ?? []), job]);
  }
  const queues = [...byPerson.values()];
  const lane = async () => {
    for (let queue = queues.shift(); queue; queue = queues.shift()) for (const job of queue) await run(job);
  };
  await Promise.all(Array.from({ length: Math.min(parallel, queues.length) }, lane));
};

export const runProvisioningPass = async (ctx: Context, options: ProvisioningPassOptions = {}): Promise<ProvisioningPassResult> => {
  const settings = await provisioningSettings(ctx.store.db);
  const connectors = new Map<string, Connector | null>();
  const connectorOf = (systemKey: string) => {
    if (!connectors.has(systemKey)) connectors.set(systemKey, connectorFor(settings.systems[systemKey]));
    return connectors.get(systemKey)!;
  };
  const result: ProvisioningPassResult = { superseded: 0, held: 0, done: 0, failed: 0, tasksOpened: 0, overdueTasks: 0 };
  result.superseded = await inTransaction(ctx, supersedeOvertakenJobs);
  result.held = await inTransaction(ctx, (work) => applyBrake(work, settings));
  const count: Record<JobResult, keyof ProvisioningPassResult | null> = {
    done: 'done', failed: 'failed', task_opened: 'tasksOpened', superseded: 'superseded', lost_lease: null,
  };
  // On a server, several people's jobs run at once (a target call is mostly waiting); PGlite has one connection.
  const parallel = ctx.store.backend === 'postgres' ? PARALLEL_PEOPLE : 1;
  const recorder = new SuccessRecorder(ctx);
  try {
    for (let batch = 0; batch < (options.maxBatches ?? Infinity); batch += 1) {
      const leaseMs = options.leaseMs ?? DEFAULT_LEASE_MS;
      const jobs = await inTransaction(ctx, (work) => claimJobs(work, options.batchSize ?? 100, leaseMs));
      if (jobs.length === 0) break;
      const leases = new JobLeases(ctx, leaseMs, jobs).start();
      try {
        await eachPersonInTurn(jobs, parallel, async (job) => {
          const outcome = await runJob(ctx, job, settings, connectorOf, leases, recorder);
          observeProvisioningAttempt(job.action, outcome);
          const key = count[outcome];
          leases.release(job);
          if (key) result[key] += 1;
        });
      } finally {
        await leases.stop();
      }
    }
  } finally {
    for (const connector of connectors.values()) await connector?.close?.();
  }
  result.overdueTasks = await inTransaction(ctx, flagOverdueTasks);
  return result;
};
