import type { Context } from '../work/context.js';
import { dispatchMail } from './dispatch.js';
import { DEFAULT_APPROVAL_REMINDER_MS } from '../domain/policy-types.js';
import { DEFAULT_REVIEW_REMINDER_MS } from '../domain/reviews.js';
import { writeApprovalReminders, writeReviewReminders } from './reminders.js';
import { sendDueMail, type SendOptions } from './send.js';
import type { MailSettings } from './transport.js';

export { mailSettingsFromEnv, parseSmtpUrl, type MailSettings, type MailTransport } from './transport.js';

export interface MailTickOptions {
  /** Where mail goes; without a transport, mail is off and the cursor passes events unmailed. */
  settings?: MailSettings | undefined;
  /** Called after each accepted message, before its mark (the crash tests' failpoint). */
  afterAccepted?: () => void;
  send?: Partial<SendOptions>;
  /** How long a stage waits before its approvers are reminded (the policy's approval.remind_after, one day by default). */
  reminderMs?: number;
  /** How long before a review campaign is due its reviewers are reminded of undecided items (the policy's reviews.remind_before, two days by default). */
  reviewReminderMs?: number;
}

export interface MailTickResult {
  /** Outbox rows written from the audit log. */
  written: number;
  /** Messages the server accepted (a digest counts once). */
  sent: number;
  /** Attempts that failed (each retried later, or given up). */
  failed: number;
}

/** One pass: the audit log past the `mail` cursor becomes outbox rows, reminders (stages that wait too long, reviews due soon) are added, then due mail is sent. Safe in several processes at once. */
export const runMailTick = async (ctx: Context, options: MailTickOptions = {}): Promise<MailTickResult> => {
  const settings = options.settings;
  const transport = settings?.transport;
  const dispatched = await dispatchMail(ctx, { publicUrl: settings?.publicUrl ?? '', enabled: transport !== undefined });
  if (!settings || !transport) return { written: dispatched, sent: 0, failed: 0 };
  const written = dispatched
    + await writeApprovalReminders(ctx, { waitMs: options.reminderMs ?? DEFAULT_APPROVAL_REMINDER_MS, publicUrl: settings.publicUrl })
    + await writeReviewReminders(ctx, { beforeDueMs: options.reviewReminderMs ?? DEFAULT_REVIEW_REMINDER_MS, publicUrl: settings.publicUrl });
  const sender = { transport, from: settings.from, messageHost: new URL(settings.publicUrl).hostname, afterAccepted: options.afterAccepted };
  return { written, ...await sendDueMail(ctx, sender, options.send) };
};
