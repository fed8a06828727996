/**
 * What one worker pass is, written once. `worker --once`, `POST /v1/lifecycle/run` (and so
 * `worker --once --server`) run `runPass`; the service loop of `serve` and `worker` runs the same
 * steps (lifecycle, duties, webhooks, SIEM stream), each on its own timer (see cli/service-loop.ts for why they are apart).
 */
import type { Context } from '../work/context.js';
import { runWebhookTick, type WebhookTickOptions, type WebhookTickResult } from '../webhooks/index.js';
import { runMailTick, type MailTickOptions, type MailTickResult } from '../mail/index.js';
import { failpoint } from './failpoints.js';
import { escalateOverdueBreakGlassReviews } from './break-glass.js';
import { escalateWaitingApprovals } from './approval-escalation.js';
import { findAppliedPolicy } from '../policy/applied.js';
import { approvalTimingOf } from '../domain/policy-types.js';
import { DEFAULT_REVIEW_REMINDER_MS } from '../domain/reviews.js';
import { scanCredentials } from './credentials.js';
import { purgeExpiredRecordings } from './recordings.js';
import { scanSeparationOfDuties } from './sod.js';
import { reopenLapsedFindings } from './findings.js';
import { runHousekeeping } from './housekeeping.js';
import { runHrJobs } from './hr.js';
import { runLifecycleTick, type TickResult } from './lifecycle.js';
import { runProvisioningPass, type ProvisioningPassResult } from './provisioning/index.js';
import { runDueReconciliations, type ScheduledReconcileResult } from './reconcile-schedule.js';
import { closeDueCampaigns, runScheduledCampaigns, type ClosedCampaigns, type ScheduledCampaigns } from './reviews.js';
import type { SiemTarget } from '../siem/config.js';
import type { StreamResult } from '../siem/stream.js';
import { runSiemStep, summariseSiem, type SiemPassResult } from './siem.js';

export interface PassOptions {
  /** How long a provisioning claim lasts without renewal (config `provisioningLeaseMs`). */
  provisioningLeaseMs?: number;
  /** The webhook key and expiry notices; without a key, deliveries wait in the outbox. */
  webhooks?: WebhookTickOptions;
  /** Where the audit log is streamed (siem/config.ts); none when not configured. */
  siem?: SiemTarget[];
  /** Where mail goes (mail/transport.ts); without a transport, mail is off. */
  mail?: MailTickOptions;
}

export interface DutiesResult {
  hr: Awaited<ReturnType<typeof runHrJobs>>;
  provisioning: ProvisioningPassResult;
  findingsReopened: number;
  credentialFindings: { opened: number; closed: number };
  sodFindings: { opened: number; closed: number };
  breakGlassEscalated: number;
  /** Request stages that waited past approval.escalate_after and were opened to their alternates. */
  approvalsEscalated: number;
  reviews: { closed: ClosedCampaigns; scheduled: ScheduledCampaigns };
  reconciliation: ScheduledReconcileResult;
  /** Proxied sessions whose statement lines retention deleted. */
  recordingsPurged: number;
}

/** Lifecycle counters at the top level (what the lifecycle route answered before it ran a whole pass), every other step beside them. */
export type PassResult = TickResult & DutiesResult & {
  webhooks: WebhookTickResult;
  siem: SiemPassResult;
  mail: MailTickResult;
  housekeeping: Awaited<ReturnType<typeof runHousekeeping>>;
};

/**
 * The duties that reach outside Tenure or sweep whole tables. HR comes first: a leaver's
 * revocations made there are carried out by the provisioning pass just after.
 */
export const runDutiesStep = async (ctx: Context, options: PassOptions = {}): Promise<DutiesResult> => {
  const hr = await runHrJobs(ctx);
  const provisioning = await runProvisioningPass(ctx, { leaseMs: options.provisioningLeaseMs });
  const findingsReopened = await reopenLapsedFindings(ctx);
  const credentialFindings = await scanCredentials(ctx);
  const sodFindings = await scanSeparationOfDuties(ctx);
  const breakGlassEscalated = await escalateOverdueBreakGlassReviews(ctx);
  const approvalsEscalated = await escalateWaitingApprovals(ctx);
  const reviews = { closed: await closeDueCampaigns(ctx), scheduled: await runScheduledCampaigns(ctx) };
  const reconciliation = await runDueReconciliations(ctx);
  const recordingsPurged = await purgeExpiredRecordings(ctx);
  return { hr, provisioning, findingsReopened, credentialFindings, sodFindings, breakGlassEscalated, approvalsEscalated, reviews, reconciliation, recordingsPurged };
};

/** Expiry notices, the audit log turned into deliveries, and due deliveries attempted. */
export const runWebhookStep = (ctx: Context, options: PassOptions = {}): Promise<WebhookTickResult> =>
  runWebhookTick(ctx, { ...options.webhooks, mailListens: options.mail?.settings?.transport !== undefined });

/**
 * The audit log turned into mail, and due mail sent (after the webhook step, whose expiry notices it
 * mails). Reminder times are the policy's, read each pass: an applied change counts from the next.
 */
export const runMailStep = async (ctx: Context, options: PassOptions = {}): Promise<MailTickResult> => {
  const policy = options.mail?.settings?.transport ? await findAppliedPolicy(ctx.store.db) : undefined;
  return runMailTick(ctx, { afterAccepted: () => failpoint('mail.after_smtp_accepted'), ...options.mail,
    reminderMs: approvalTimingOf(policy).remindAfterMs, reviewReminderMs: policy?.reviews?.remindBeforeMs ?? DEFAULT_REVIEW_REMINDER_MS });
};

/** The audit log streamed to each configured SIEM target, up to the head. */
export const runSiemStreamStep = (ctx: Context, options: PassOptions = {}): Promise<StreamResult[]> =>
  runSiemStep(ctx, options.siem ?? []);

/**
 * One whole pass, in order: lifecycle, duties, webhooks and mail (so the events of this pass are
 * delivered in it), the SIEM stream (which then carries them too), housekeeping. Safe to run in
 * several processes at once, as each step is.
 */
export const runPass = async (ctx: Context, options: PassOptions = {}): Promise<PassResult> => {
  const lifecycle = await runLifecycleTick(ctx);
  const duties = await runDutiesStep(ctx, options);
  const webhooks = await runWebhookStep(ctx, options);
  const mail = await runMailStep(ctx, options);
  const siem = summariseSiem(await runSiemStreamStep(ctx, options));
  return { ...lifecycle, ...duties, webhooks, mail, siem, housekeeping: await runHousekeeping(ctx) };
};
