/**
 * Leases on claimed provisioning jobs: short, and renewed while this worker is alive, so a worker
 * that dies (SIGKILL, OOM, a lost host) gives its jobs up within one lease rather than minutes, and
 * the other jobs of the same person on the same system, which wait behind a running one, go on.
 *
 * The attempt number a claim wrote is the fencing token: renewal and every completing UPDATE match
 * it, so a worker whose lease lapsed and was taken over (a long GC or VM pause, a partition) finds
 * out at its next renewal or before its next connector call, and never records the outcome as its own.
 */
import { sql } from 'drizzle-orm';
import { DEFAULT_LEASE_MS } from '../../domain/provisioning.js';
import type { Context } from '../../work/context.js';
import { rawRows } from '../../store/database.js';
import type { ClaimedJob } from './claim.js';

export { DEFAULT_LEASE_MS };

/** Renewals per lease: a lease survives two missed renewals (a slow database, a busy event loop). */
const RENEWALS_PER_LEASE = 3;

export class JobLeases {
  private readonly held = new Map<string, number>();
  private readonly lost = new Set<string>();
  private timer: NodeJS.Timeout | undefined;
  private renewal: Promise<void> = Promise.resolve();

  constructor(private readonly ctx: Context, readonly leaseMs: number, jobs: readonly ClaimedJob[] = []) {
    for (const job of jobs) this.held.set(job.id, job.attempts);
  }

  /** Renews every held lease each third of a lease until `stop()`; the timer does not keep the process alive. */
  start(): this {
    this.timer = setInterval(() => { this.renewal = this.renewal.then(() => this.renewAll()); }, Math.max(1, this.leaseMs / RENEWALS_PER_LEASE));
    this.timer.unref();
    return this;
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.renewal;
  }

  /** The job is finished (or given up): its lease is no longer renewed. */
  release(job: ClaimedJob): void {
    this.held.delete(job.id);
  }

  /**
   * Renews this job's lease now, right before a call to a target: true while this worker still
   * holds it. False when another worker took it over; then the call must not be made, since a stale
   * removal could undo what the new holder (or a later job of the same grant) has done since.
   */
  async confirm(job: ClaimedJob): Promise<boolean> {
    if (this.lost.has(job.id) || !this.held.has(job.id)) return false;
    await this.renew([[job.id, job.attempts]]);
    return !this.lost.has(job.id);
  }

  private async renewAll(): Promise<void> {
    if (this.held.size === 0) return;
    // A failed renewal is not fatal: the lease may lapse and pass the job on, which the fence makes safe.
    await this.renew([...this.held]).catch(() => undefined);
  }

  private async renew(jobs: Array<[string, number]>): Promise<void> {
    const until = new Date(this.ctx.clock.now().getTime() + this.leaseMs).toISOString();
    const fence = JSON.stringify(jobs.map(([id, attempts]) => ({ id, attempts })));
    const kept = await rawRows<{ id: string }>(this.ctx.store.db, sql`
      UPDATE provisioning_jobs j SET lease_until = ${until}
        FROM jsonb_to_recordset(${fence}::jsonb) AS h(id uuid, attempts int)
       WHERE j.id = h.id AND j.attempts = h.attempts AND j.state = 'running'
      RETURNING j.id`);
    const still = new Set(kept.map((row) => row.id));
    for (const [id] of jobs) {
      if (!still.has(id) && this.held.has(id)) { this.lost.add(id); this.held.delete(id); }
    }
  }
}
