/**
 * Who is told what by e-mail: one table, read by the mail dispatcher (mail/dispatch.ts) and written
 * into docs/notifications.md. Each entry names the webhook event it follows (the same data as the
 * webhook payload, see webhooks/events.ts), who receives it, whether it is urgent (sent at once even
 * to someone who chose a daily digest), and the console page where the person acts. Pure.
 */
import type { WebhookEventType } from './webhook-events.js';

export const MAIL_STATUSES = ['pending', 'sent', 'failed', 'no_address'] as const;
export type MailStatus = (typeof MAIL_STATUSES)[number];

/**
 * Who a message is for, named by what the event's data says about them:
 * - `approvers`: the approvers of the stage that now waits (data.approvers);
 * - `beneficiary` / `requester`: the person the access is for and who asked for it;
 * - `reviewer`: the reviewer of a campaign item; `owner`: the owner of a finding;
 * - `sponsor`: the sponsor of an engagement; `security` / `iam`: everyone holding that role.
 */
export type MailAudience = 'approvers' | 'beneficiary' | 'requester' | 'reviewer' | 'owner' | 'sponsor' | 'security' | 'iam';

export interface MailRule {
  audience: readonly MailAudience[];
  urgent: boolean;
  /** The console page (a hash route of the web console) where the person acts; sign-in still applies. */
  page: string;
  /** Shown in docs/notifications.md. */
  when: string;
}

export const MAIL_RULES: Readonly<Partial<Record<WebhookEventType, MailRule>>> = {
  'approval.needed': { audience: ['approvers'], urgent: false, page: 'inbox', when: 'a stage of a request waits for them' },
  'request.escalated': { audience: ['approvers', 'iam'], urgent: false, page: 'inbox',
    when: "a stage waited past the policy's approval.escalate_after: now its alternates may decide it too (IAM sees every escalation, and those with nobody to escalate to)" },
  'grant.activated': { audience: ['beneficiary', 'requester'], urgent: false, page: 'access', when: 'a request was approved and the access began' },
  'request.denied': { audience: ['beneficiary', 'requester'], urgent: false, page: 'access', when: 'a request was denied' },
  'request.cancelled': { audience: ['beneficiary', 'requester'], urgent: false, page: 'access', when: 'a request was cancelled undecided' },
  'request.expired': { audience: ['beneficiary', 'requester'], urgent: false, page: 'access', when: 'a request lapsed undecided' },
  'grant.expiring_soon': { audience: ['beneficiary', 'requester'], urgent: false, page: 'access', when: 'a grant ends soon (14 days and 1 day ahead by default)' },
  'grant.revoked': { audience: ['beneficiary', 'requester'], urgent: false, page: 'access', when: 'a grant was revoked before its end' },
  'review.item_assigned': { audience: ['reviewer'], urgent: false, page: 'reviews', when: 'a grant to review was assigned to them' },
  'finding.opened': { audience: ['owner'], urgent: false, page: 'findings', when: 'a finding was opened for them (urgent when critical, or a removal failed)' },
  'engagement.expiring_soon': { audience: ['sponsor'], urgent: false, page: 'people', when: "their contractor's engagement ends soon" },
  'breakglass.activated': { audience: ['security'], urgent: true, page: 'breakglass', when: 'emergency access was taken' },
  // Urgent: the check-out's clock started at the hand-over, so tomorrow's digest would waste it.
  'shared_account.turn': { audience: ['beneficiary', 'requester'], urgent: true, page: 'access',
    when: 'their place in a shared account\'s line came up: the account is theirs from now' },
};

export const MAIL_EVENT_TYPES = Object.keys(MAIL_RULES) as WebhookEventType[];

/**
 * Urgency can depend on the event: a failed removal (access that should be gone and is not) or a
 * critical finding cannot wait for tomorrow's digest.
 */
export const isUrgent = (type: WebhookEventType, data: Record<string, unknown>): boolean =>
  (MAIL_RULES[type]?.urgent ?? false)
  || (type === 'finding.opened' && (data.severity === 'critical' || data.kind === 'provisioning_failed'));

/** The hour (UTC) at which daily digests go out, and when a message held now for the digest is due. */
export const DIGEST_HOUR_UTC = 7;

export const nextDigestAt = (now: Date, hourUtc = DIGEST_HOUR_UTC): Date => {
  const at = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate(), hourUtc));
  return at.getTime() > now.getTime() ? at : new Date(at.getTime() + 86_400_000);
};

export const MAIL_DELIVERY_MODES = ['immediate', 'daily_digest'] as const;
export type MailDeliveryMode = (typeof MAIL_DELIVERY_MODES)[number];
