/**
 * A job whose target call succeeded is recorded as done, with its audit event, in a group commit:
 * every outcome that arrives while the previous group is committing goes into the next group's one
 * transaction. The audit head lock is held from the append to COMMIT (the fsync), and removals
 * recorded one transaction each queued on it: at 3,000 grants ending in the same second, the worker's
 * lanes spent their time waiting for that lock, not on the targets (see docs/connectors.md).
 */
import { sql } from 'drizzle-orm';
import { inTransaction, type Context, type Work } from '../../work/context.js';
import { openFinding, resolveFindingByKey } from '../../operations/lib/provisioning/findings.js';
import type { GrantContext } from '../../operations/lib/provisioning/grant-context.js';
import { rawRows } from '../../store/database.js';
import type { ClaimedJob } from './claim.js';
import { finishJob, setGrantState } from './job-state.js';

/**
 * The last removal from a connector that hands out passwords also cleared the account's password
 * (postgres-roles: PASSWORD NULL). Said in the audit log when a credential had been issued there.
 */
const recordCredentialRemoved = async (work: Work, job: ClaimedJob): Promise<void> => {
  const [issued] = await rawRows<{ n: number }>(work.tx, sql`
    SELECT count(*)::int AS n FROM grants g JOIN entitlements e ON e.id = g.entitlement_id
     WHERE g.identity_id = ${job.identity_id} AND e.system_id = ${job.system_id} AND g.credential_issued_at IS NOT NULL`);
  if ((issued?.n ?? 0) === 0) return;
  work.record({ action: 'grant.credential_removed', subject: { type: 'grant', id: job.grant_id }, identityId: job.identity_id,
    systemId: job.system_id, data: { passwordCleared: true } });
};

/** What an account left behind at its last removal is its system's technical owner's to clear; a removal that left nothing closes it. */
const recordLeftovers = async (work: Work, job: ClaimedJob, jc: GrantContext, leftovers: string[] | undefined): Promise<void> => {
  const key = `account_leftovers:${job.system_id}:${job.identity_id}`;
  if (!leftovers?.length) { await resolveFindingByKey(work, key, 'nothing left behind at the last removal'); return; }
  await openFinding(work, { kind: 'account_leftovers', key, systemId: job.system_id, identityId: job.identity_id, grantId: job.grant_id,
    ownerId: jc.technicalOwnerId, summary: `${jc.identityHandle}'s account on ${jc.systemKey} was removed from its last grant but still ${leftovers[0]}`
      + `${leftovers.length > 1 ? ` and ${leftovers.length - 1} more` : ''}: the role is kept, without login, until they are dealt with`,
    evidence: { leftovers } });
};

export type Outcome = {
  changed: boolean; readBack: string | null; passwordCleared?: boolean; lastOnSystem?: boolean; leftovers?: string[];
  rotation?: { beforeSha256: string | null; afterSha256: string };
};

/** One job's success inside the group's transaction; `lost_lease` when another worker has taken the job over since. */
const recordOne = async (work: Work, { job, jc, outcome }: Pending): Promise<'done' | 'lost_lease'> => {
  const evidence = { jobId: job.id, attempt: job.attempts, changed: outcome.changed, readBack: outcome.readBack, at: work.now,
    // A shared account's removal is its rotation: the evidence of it goes with grant.deprovisioned.
    ...(outcome.rotation ? { rotation: outcome.rotation } : {}) };
  if (!(await finishJob(work, job, { state: 'done', finishedAt: work.now, outcome: evidence, lastError: null }))) return 'lost_lease';
  const state = job.action === 'provision' ? 'provisioned' : 'deprovisioned';
  await setGrantState(work, job, state, evidence);
  await resolveFindingByKey(work, `provisioning_failed:${job.grant_id}`, `${job.action} succeeded at attempt ${job.attempts}`);
  work.record({ action: job.action === 'provision' ? 'grant.provisioned' : 'grant.deprovisioned', subject: { type: 'grant', id: job.grant_id },
    identityId: job.identity_id, systemId: job.system_id, after: { provisioningState: state }, data: evidence });
  if (outcome.passwordCleared) await recordCredentialRemoved(work, job);
  if (outcome.lastOnSystem) await recordLeftovers(work, job, jc, outcome.leftovers);
  return 'done';
};

interface Pending { job: ClaimedJob; jc: GrantContext; outcome: Outcome }
interface Waiting extends Pending { settle: (result: Promise<'done' | 'lost_lease'>) => void }

/** At most this many jobs in one transaction: a bound on how long the group holds its rows and the audit head. */
const MAX_GROUP = 200;

export class SuccessRecorder {
  private queue: Waiting[] = [];
  private committing = false;

  constructor(private readonly ctx: Context) {}

  /** Resolves once this job's success is committed (or found taken over); rejects as its transaction did. */
  record(job: ClaimedJob, jc: GrantContext, outcome: Outcome): Promise<'done' | 'lost_lease'> {
    return new Promise((resolve) => {
      this.queue.push({ job, jc, outcome, settle: resolve });
      void this.drain();
    });
  }

  private async drain(): Promise<void> {
    if (this.committing) return;
    this.committing = true;
    try {
      while (this.queue.length > 0) await this.commit(this.queue.splice(0, MAX_GROUP));
    } finally {
      this.committing = false;
    }
  }

  /**
   * One transaction for the group. If it fails, each job is tried again in a transaction of its own,
   * so one job's failure (whatever it is) is that job's alone and never stops the others being recorded.
   */
  private async commit(group: Waiting[]): Promise<void> {
    const together = inTransaction(this.ctx, async (work) => {
      const results: ('done' | 'lost_lease')[] = [];
      for (const pending of group) results.push(await recordOne(work, pending));
      return results;
    });
    try {
      const results = await together;
      group.forEach((pending, i) => pending.settle(Promise.resolve(results[i]!)));
    } catch (error) {
      if (group.length === 1) { group[0]!.settle(Promise.reject(error)); return; }
      for (const pending of group) {
        const alone = inTransaction(this.ctx, (work) => recordOne(work, pending));
        pending.settle(alone);
        await alone.catch(() => undefined);
      }
    }
  }
}
