/** What a webhook subscription can ask for: the domain's list, so naming it loads no delivery code. */
export const WEBHOOK_EVENT_TYPES = [
  'request.created', 'approval.needed', 'request.escalated', 'request.denied', 'request.cancelled', 'request.expired',
  'grant.activated', 'grant.expiring_soon', 'grant.expired', 'grant.revoked', 'breakglass.activated',
  'review.campaign_opened', 'review.item_assigned', 'review.item_decided', 'review.item_defaulted',
  'finding.opened', 'finding.resolved', 'task.opened', 'credential.rotated', 'credential.retired',
  'engagement.expiring_soon', 'vendor.expiring_soon', 'session.started', 'session.ended', 'shared_account.turn',
] as const;
export type WebhookEventType = (typeof WEBHOOK_EVENT_TYPES)[number];

/**
 * One line per event type, for docs/webhooks.md (`npm run docs:webhooks` writes the table; a test
 * fails when the docs and this list differ). A Record, so a type without a meaning does not compile.
 */
export const WEBHOOK_EVENT_MEANINGS: Readonly<Record<WebhookEventType, string>> = {
  'request.created': 'someone asked for access (with the route of approval stages)',
  'approval.needed': 'a stage of a request waits for its approvers (the first on creation, the next after each stage approval)',
  'request.escalated': "a stage waited past the policy's approval.escalate_after and its alternates may now decide it (approvers: all who may; escalatedTo: those added)",
  'request.denied': 'an approver denied a request',
  'request.cancelled': "a request was cancelled undecided (by its requester, or because the beneficiary's access ended)",
  'request.expired': 'a request lapsed undecided',
  'grant.activated': 'access began (a grant created active, or a scheduled one reaching its start)',
  'grant.expiring_soon': 'a grant ends soon (reminders two weeks and one day ahead by default)',
  'grant.expired': 'a grant reached its end',
  'grant.revoked': 'a grant was revoked before its end',
  'breakglass.activated': 'emergency access was taken; a review of it is due',
  'review.campaign_opened': 'an access review campaign opened (how many items, reviewers and holders)',
  'review.item_assigned': 'a grant to review was assigned to a reviewer: one event per item of a campaign when it opens',
  'review.item_decided': 'a reviewer kept, shortened or revoked a reviewed grant',
  'review.item_defaulted': 'a review item was not decided by the due date and its default applied',
  'finding.opened': 'a finding (drift, orphaned account, stale credential, ...) was opened',
  'finding.resolved': 'a finding was resolved (fixed, or its cause went away)',
  'task.opened': 'a manual provisioning task waits for a system owner',
  'credential.rotated': 'a registered credential was rotated (new fingerprint)',
  'credential.retired': 'a registered credential was retired',
  'engagement.expiring_soon': 'a vendor engagement ends soon',
  'vendor.expiring_soon': "a vendor's contract ends soon",
  'session.started': 'a person opened a session through the access proxy (person, grant, system, account, role, client address)',
  'session.ended': 'a proxied session ended: why, how many statements, and the SHA-256 of its recording',
  'shared_account.turn': 'a shared account came free and was handed to the first in its line: their check-out has begun (previous holder, how many still wait)',
};
