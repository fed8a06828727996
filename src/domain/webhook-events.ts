/** What a webhook subscription can ask for: the domain's list, so naming it loads no delivery code. */
export const WEBHOOK_EVENT_TYPES = [
  'request.created', 'approval.needed', 'request.expired', 'grant.activated', 'grant.expiring_soon', 'grant.expired', 'grant.revoked', 'finding.opened',
  'task.opened', 'breakglass.activated', 'engagement.expiring_soon', 'vendor.expiring_soon',
] as const;
export type WebhookEventType = (typeof WEBHOOK_EVENT_TYPES)[number];
