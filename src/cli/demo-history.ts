/**
 * Three weeks of the demo organisation's past, played on a clock that starts 21 days ago, so a
 * newcomer's console has history to show: access granted, expired and removed from the target (with
 * the lag the Findings page charts), a removal that ran late and opened a finding until it was done,
 * and a service-account key nobody rotated. Every step goes through the same use cases and jobs as
 * real work, so the audit log tells the same story.
 */
import { ManualClock } from '../domain/clock.js';
import { runLifecycleTick } from '../jobs/lifecycle.js';
import { runProvisioningPass } from '../jobs/provisioning/index.js';
import { approveRequest } from '../operations/approve-request.js';
import { confirmProvisioningTask } from '../operations/confirm-provisioning-task.js';
import type { Context } from '../work/context.js';
import { createRequest, type CreateRequestInput } from '../operations/create-request.js';
import { listProvisioningJobs } from '../operations/list-provisioning-jobs.js';

const HOUR = 3_600_000;
export const DAY = 24 * HOUR;
/** How far back the story starts. */
export const HISTORY_DAYS = 21;

export interface DemoStory {
  clock: ManualClock;
  /** The context of `handle`, on the story's clock. */
  as(handle: string): Promise<Context>;
  worker: Context;
}

/** A clock set `HISTORY_DAYS` before the real one; the demo is loaded on it and then brought to now. */
export const storyClock = (real: Date): ManualClock => new ManualClock(new Date(real.getTime() - HISTORY_DAYS * DAY));

/** Files a request and has it approved by each stage in turn; returns the grant. */
const grantThrough = async (story: DemoStory, who: string, input: CreateRequestInput, approvers: string[]): Promise<string> => {
  const request = await createRequest(await story.as(who), input);
  let grant: string | null = null;
  for (const approver of approvers) grant = (await approveRequest(await story.as(approver), { request: request.id })).grantId;
  return grant!;
};

/** The technical owner confirms the manual task a pass opened for the grant, after `afterMs`. */
const confirmTask = async (story: DemoStory, grant: string, afterMs: number, note: string) => {
  await runProvisioningPass(story.worker);
  story.clock.advance(afterMs);
  await runProvisioningPass(story.worker);
  const [task] = await listProvisioningJobs(await story.as('tom'), { grant, state: 'awaiting_confirmation' });
  if (task) await confirmProvisioningTask(await story.as('tom'), { job: task.id, note });
};

/** Moves the story to `daysAgo` days before the real start time and runs the lifecycle, as the worker would. */
const until = async (story: DemoStory, real: number, daysAgo: number) => {
  story.clock.advance(real - daysAgo * DAY - story.clock.now().getTime());
  await runLifecycleTick(story.worker);
};

/**
 * The past, from just after the organisation and its engagements were set up (HISTORY_DAYS ago):
 * Vera edits CRM records for five days; Carl holds payments/approve for three; both are removed by hand.
 */
export const playHistory = async (story: DemoStory, real: number): Promise<void> => {
  await until(story, real, 20);
  const edit = await grantThrough(story, 'vera', { entitlement: 'crm/edit', justification: 'Correct mis-filed customer addresses', ticket: 'SUP-990',
    duration: '5d' }, ['olivia', 'tom']);
  await confirmTask(story, edit, 3 * HOUR, 'account added to the CRM editors group');
  await until(story, real, 14.9); // the lifecycle pass that ends it runs a little after the grant's end
  await confirmTask(story, edit, 5 * HOUR, 'removed from the CRM editors group');

  await until(story, real, 10);
  const approve = await grantThrough(story, 'carl', { entitlement: 'payments/approve', justification: 'Sign off the parallel-run batches',
    ticket: 'FIN-61', duration: '3d' }, ['sam', 'olivia']);
  await confirmTask(story, approve, 2 * HOUR, 'role granted in the payments database');
  await until(story, real, 6.9);
  // Removal is due within a day on this manual system: this one took longer, and a finding said so until it was done.
  await confirmTask(story, approve, DAY + 6 * HOUR, 'role revoked (late: the DBA was on leave)');
  await until(story, real, 0);
};
