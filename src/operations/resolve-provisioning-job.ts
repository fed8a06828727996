import { eq } from 'drizzle-orm';
import { z } from 'zod';
import { TenureError } from '../domain/errors.js';
import { provisioningJobs } from '../store/schema-provisioning.js';
import { authorize, requirePerson } from './authorize.js';
import { inTransaction, type Context } from '../work/context.js';
import { parseInput, text } from './input.js';
import { resolveFindingByKey } from './lib/provisioning/findings.js';
import { checkTaskDecider, lockJob } from './lib/provisioning/jobs.js';

export const Input = z.object({ job: z.string().min(1, 'must be a provisioning job id'), note: text(2000) }).strict();

/**
 * An operator stops a job that cannot succeed (the target was decommissioned, the account was
 * handled by hand): the job is `resolved` with the note, and its failure finding closes. The grant
 * keeps its provisioning state, so the record never claims a removal nobody saw happen. The same
 * rule as confirming a task: only a person, and not about their own access.
 */
export const resolveProvisioningJob = async (ctx: Context, input: z.input<typeof Input>) => {
  const data = parseInput(Input, input);
  return inTransaction(ctx, async (work) => {
    const acting = await authorize(work, 'provisioning.operate');
    requirePerson(acting, 'resolve a provisioning task');
    const { job } = await lockJob(work, data.job);
    await checkTaskDecider(work, acting, job, 'resolve a provisioning task');
    if (!['queued', 'failing', 'held', 'awaiting_confirmation'].includes(job.state)) {
      throw new TenureError('provisioning.job_not_awaiting', `the job is ${job.state}: only a job still waiting can be resolved`, { field: 'job' });
    }
    await work.tx.update(provisioningJobs).set({ state: 'resolved', finishedAt: work.now, finishedBy: acting.identity.id, leaseUntil: null,
      outcome: { resolvedBy: acting.identity.id, note: data.note, previousState: job.state } }).where(eq(provisioningJobs.id, job.id));
    const why = `job resolved by ${acting.identity.handle}: ${data.note}`;
    await resolveFindingByKey(work, `provisioning_failed:${job.grantId}`, why);
    await resolveFindingByKey(work, `manual_task_overdue:${job.id}`, why);
    work.record({ action: 'provisioning.resolved', subject: { type: 'provisioning_job', id: job.id }, identityId: job.identityId,
      systemId: job.systemId, reason: data.note, before: { state: job.state }, after: { state: 'resolved' }, data: { grantId: job.grantId } });
    return { id: job.id, state: 'resolved' as const };
  });
};
