/** The one typed list of audit event types. Adding a state change means adding its type here. */
export const AUDIT_EVENT_TYPES = [
  'setup.initialised',
  'identity.created',
  'identity.status_changed',
  'identity.sponsor_changed',
  'identity.operator_changed',
  'identity.mail_delivery_changed',
  'role.granted',
  'role.removed',
  'vendor.created',
  'vendor.contract_end_changed',
  'vendor.contract_ended',
  'vendor.expiring_soon',
  'engagement.created',
  'engagement.end_changed',
  'engagement.ended',
  'engagement.expiring_soon',
  'engagement.renewal_requested',
  'engagement.renewed',
  'engagement.renewal_lapsed',
  'policy.applied',
  'request.created',
  'request.stage_approved',
  'request.rerouted',
  'request.escalated',
  'request.queued',
  'shared_account.handed_over',
  'request.approved',
  'request.denied',
  'request.cancelled',
  'request.shortened',
  'request.expired',
  'exception.created',
  'grant.created',
  'grant.activated',
  'grant.extended',
  'grant.shortened',
  'grant.expired',
  'grant.revoked',
  'grant.expiring_soon',
  'breakglass.activated',
  'breakglass.reviewed',
  'review.campaign_opened',
  'review.decided',
  'review.defaulted',
  'review.item_voided',
  'review.campaign_closed',
  'grant.provisioned',
  'grant.deprovisioned',
  'grant.credential_issued',
  'grant.credential_removed',
  'provisioning.failed',
  'provisioning.task_opened',
  'provisioning.task_confirmed',
  'provisioning.held',
  'provisioning.released',
  'provisioning.resolved',
  'credential.registered',
  'credential.rotated',
  'credential.retired',
  'credential.retirement_due',
  'hr.event_applied',
  'hr.batch_held',
  'hr.batch_confirmed',
  'hr.batch_discarded',
  'identity.attributes_changed',
  'ownership.reassigned',
  'finding.opened',
  'finding.resolved',
  'finding.accepted',
  'finding.reopened',
  'reconciliation.completed',
  'access.drift_removed',
  'ssh.certificate_issued',
  'webhook.created',
  'webhook.deleted',
  'webhook.rekeyed',
  'webhook.secret_rotated',
  'audit.restore_acknowledged',
  'token.created',
  'token.revoked',
  'session.created',
  'session.ended',
  'proxy_session.started',
  'proxy_session.ended',
  'proxy_session.recording_purged',
] as const;

export type AuditEventType = (typeof AUDIT_EVENT_TYPES)[number];

/** How the actor reached Tenure. */
export type Channel = 'cli' | 'api' | 'web' | 'worker' | 'system';

export interface Actor {
  /** The identity acting; undefined for the system itself (bootstrap, worker). */
  id: string | undefined;
  channel: Channel;
  osUser?: string;
  tokenId?: string;
  /**
   * Who minted the credential the actor used, when that is someone other than the actor (a service
   * account's token minted by its owner or by IAM). Every same-party rule applies to both.
   */
  issuedBy?: string;
  /**
   * The actor's own sign-in behind the credential used MFA (Principal.mfa). Not part of the audit
   * record's actor (chain.ts hashes the fields it names): use cases that mint credentials from it
   * (tokens, SSH certificates) record it on what they mint and in their event.
   */
  mfa?: true;
  /** When that MFA was performed, when known (Principal.mfaAt); recorded on what is minted from it, like `mfa`. */
  mfaAt?: Date;
}

export interface AuditInput {
  action: AuditEventType;
  subject: { type: string; id: string };
  /** The identity the event is about, for search and evidence packs. */
  identityId?: string | null | undefined;
  systemId?: string | null | undefined;
  before?: unknown;
  after?: unknown;
  reason?: string | null | undefined;
  ticket?: string | null | undefined;
  data?: unknown;
}
