/** Shared by the operations on provisioning jobs: loading one job with what its checks need. */
import { eq } from 'drizzle-orm';
import { TenureError } from '../../../domain/errors.js';
import { isUuid } from '../../../domain/ids.js';
import { systems } from '../../../store/schema.js';
import { provisioningJobs } from '../../../store/schema-provisioning.js';
import { requirePerson, type ActingIdentity } from '../../authorize.js';
import type { Work } from '../../../work/context.js';
import { partiesOfIdentities, refuseParties } from '../approval/parties.js';

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

/**
 * The one rule for every person who closes a task by their word (confirm or resolve): a person, never
 * automation, and never for a task about their own access or that of an identity they created or own.
 */
export const checkTaskDecider = async (work: Work, acting: ActingIdentity, job: { identityId: string }, what: string): Promise<void> => {
  requirePerson(acting, what);
  refuseParties(work, await partiesOfIdentities(work.tx, [job.identityId]), 'provisioning.own_access_forbidden',
    `nobody may ${what} about their own access or that of an identity they created or own`);
};
