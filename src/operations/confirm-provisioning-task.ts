import { and, eq, gt, inArray } from 'drizzle-orm';
import { z } from 'zod';
import { TenureError } from '../domain/errors.js';
import { OPEN_JOB_STATES } from '../domain/provisioning.js';
import { grants } from '../store/schema.js';
import { provisioningJobs } from '../store/schema-provisioning.js';
import { loadActor, may, refuseUnless, requirePerson } from './authorize.js';
import { inTransaction, type Context } from '../work/context.js';
import { parseInput, text } from './input.js';
import { resolveFindingByKey } from './lib/provisioning/findings.js';
import { checkTaskDecider, lockJob } from './lib/provisioning/jobs.js';

export const Input = z.object({ job: z.string().min(1, 'must be a provisioning job id'), note: text(2000) }).strict();

/**
 * The technical owner (or IAM and security) says a manual task is done: the account was created or
 * removed by hand. Their word, with a note, is the evidence recorded with the grant; nobody confirms
 * a task about their own access.
 */
export const confirmProvisioningTask = async (ctx: Context, input: z.input<typeof Input>) => {
  const data = parseInput(Input, input);
  return inTransaction(ctx, async (work) => {
    const acting = await loadActor(work.tx, work.actor.id);
    requirePerson(acting, 'confirm a provisioning task');
    const { job, system } = await lockJob(work, data.job);
    await checkTaskDecider(work, acting, job, 'confirm a provisioning task');
    const me = acting.identity.id;
    refuseUnless(system.technicalOwnerId === me || may(acting, 'provisioning.operate'),
      `only the technical owner of ${system.key}, IAM or security confirm its tasks`);
    if (job.state !== 'awaiting_confirmation') {
      throw new TenureError('provisioning.job_not_awaiting', `the job is ${job.state}, not awaiting confirmation`, { field: 'job' });
    }
    const evidence = { jobId: job.id, confirmedBy: me, note: data.note, at: work.now };
    await work.tx.update(provisioningJobs).set({ state: 'done', finishedAt: work.now, finishedBy: me, outcome: evidence })
      .where(eq(provisioningJobs.id, job.id));
    const later = await work.tx.select({ id: provisioningJobs.id }).from(provisioningJobs)
      .where(and(eq(provisioningJobs.grantId, job.grantId), gt(provisioningJobs.seq, job.seq),
        inArray(provisioningJobs.state, OPEN_JOB_STATES)));
    const state = job.action === 'provision' ? 'provisioned' : 'deprovisioned';
    if (later.length === 0) {
      await work.tx.update(grants).set({ provisioningState: state, provisioningConfirmedAt: work.now, provisioningEvidence: evidence })
        .where(eq(grants.id, job.grantId));
    }
    await resolveFindingByKey(work, `manual_task_overdue:${job.id}`, `confirmed by ${acting.identity.handle}`);
    work.record({ action: 'provisioning.task_confirmed', subject: { type: 'provisioning_job', id: job.id }, identityId: job.identityId,
      systemId: job.systemId, reason: data.note, data: { grantId: job.grantId, action: job.action } });
    work.record({ action: job.action === 'provision' ? 'grant.provisioned' : 'grant.deprovisioned', subject: { type: 'grant', id: job.grantId },
      identityId: job.identityId, systemId: job.systemId, after: { provisioningState: state }, data: evidence });
    return { id: job.id, state: 'done' as const, grantProvisioningState: later.length === 0 ? state : 'pending' };
  });
};
