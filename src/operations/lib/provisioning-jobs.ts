/** Shared by the operations on provisioning jobs: loading one job with what its checks need. */
import { eq } from 'drizzle-orm';
import { TenureError } from '../../domain/errors.js';
import { isUuid } from '../../domain/ids.js';
import { systems } from '../../store/schema.js';
import { provisioningJobs } from '../../store/schema-provisioning.js';
import type { Work } from '../context.js';

/**
 * The job and its system, locked: two people confirming or resolving the same job at once must
 * not both succeed, so the second one sees the state the first one left.
 */
export const lockJob = async (work: Work, id: string) => {
  if (!isUuid(id)) throw new TenureError('provisioning.job_not_found', `no provisioning job '${id}'`, { field: 'job' });
  const [row] = await work.tx.select({ job: provisioningJobs, system: systems }).from(provisioningJobs)
    .innerJoin(systems, eq(systems.id, provisioningJobs.systemId))
    .where(eq(provisioningJobs.id, id)).for('update', { of: provisioningJobs });
  if (!row) throw new TenureError('provisioning.job_not_found', `no provisioning job '${id}'`, { field: 'job' });
  return row;
};
