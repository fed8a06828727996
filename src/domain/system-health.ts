/**
 * One word for how a system's connector is doing, for the Systems page and anyone who asks "is
 * removal working there?". The worst condition wins: an unsafe connector first; held revocations and failing jobs mean access
 * that should be gone may still be live, so they come before staleness.
 */
import type { ConnectorType, JobState } from './provisioning.js';

export const CONNECTOR_HEALTH = ['unsafe', 'held', 'failing', 'retrying', 'drift', 'tasks_overdue', 'not_reconciled', 'reconciliation_overdue', 'manual', 'ok'] as const;
export type ConnectorHealth = (typeof CONNECTOR_HEALTH)[number];

export interface HealthInput {
  /** Null: no connector in policy, so provisioning and removal are manual tasks. */
  connector: ConnectorType | null;
  /** Whether reconciliation can read the target (not manual, not a certificate authority). */
  reconcilable: boolean;
  reconcileEveryMs: number | null;
  jobs: Partial<Record<JobState, number>>;
  /** Unfinished jobs whose last attempt failed and that will be tried again. */
  retrying: number;
  overdueTasks: number;
  lastRun: { finishedAt: Date; brakeHeld: boolean } | null;
  /** Open drift findings: the target holds access the grants do not explain, or lacks access they give. */
  openDrift?: number;
  /** An open connector_unsafe finding: the connector's own credentials reach far beyond what it needs. */
  unsafe?: boolean;
  now: Date;
}

export const connectorHealth = (input: HealthInput): ConnectorHealth => {
  // First: a leaked connector credential that reaches the operating system or all data outweighs any backlog.
  if (input.unsafe) return 'unsafe';
  if ((input.jobs.held ?? 0) > 0 || input.lastRun?.brakeHeld) return 'held';
  if ((input.jobs.failing ?? 0) > 0) return 'failing';
  if (input.retrying > 0) return 'retrying';
  if ((input.openDrift ?? 0) > 0) return 'drift';
  if (input.overdueTasks > 0) return 'tasks_overdue';
  if (input.connector === null || input.connector === 'manual') return 'manual';
  if (!input.reconcilable) return 'ok';
  if (!input.lastRun) return 'not_reconciled';
  // Two missed intervals, not one, so a pass that is merely running late is not reported.
  const stale = input.reconcileEveryMs !== null && input.now.getTime() - input.lastRun.finishedAt.getTime() > 2 * input.reconcileEveryMs;
  return stale ? 'reconciliation_overdue' : 'ok';
};
