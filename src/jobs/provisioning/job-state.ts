/** How a job's end is written: the job leaves `running`, and the grant's provisioning state follows its latest job. */
import { and, eq, sql } from 'drizzle-orm';
import type { ProvisioningState } from '../../domain/provisioning.js';
import type { Work } from '../../work/context.js';
import { rawRows } from '../../store/database.js';
import { grants } from '../../store/schema.js';
import { provisioningJobs } from '../../store/schema-provisioning.js';
import type { ClaimedJob } from './claim.js';

/** Moves the job out of `running` only if this worker still holds it (same attempt): a lapsed lease may have passed it on. */
export const finishJob = async (work: Work, job: ClaimedJob, values: Partial<typeof provisioningJobs.$inferInsert>): Promise<boolean> => {
  const updated = await work.tx.update(provisioningJobs).set({ leaseUntil: null, ...values })
    .where(and(eq(provisioningJobs.id, job.id), eq(provisioningJobs.state, 'running'), eq(provisioningJobs.attempts, job.attempts)))
    .returning({ id: provisioningJobs.id });
  return updated.length === 1;
};

/** The grant's state follows its latest job only: an older job finishing must not hide a newer one still pending. */
export const setGrantState = async (work: Work, job: ClaimedJob, state: ProvisioningState, evidence: unknown): Promise<void> => {
  const later = await rawRows<{ n: number }>(work.tx, sql`SELECT count(*)::int AS n FROM provisioning_jobs
    WHERE grant_id = ${job.grant_id} AND seq > ${job.seq} AND state NOT IN ('superseded','done','resolved')`);
  if ((later[0]?.n ?? 0) > 0) return;
  await work.tx.update(grants).set({ provisioningState: state, provisioningConfirmedAt: work.now, provisioningEvidence: evidence })
    .where(eq(grants.id, job.grant_id));
};
