/** The vocabulary of the domain: closed lists used by rules, storage checks, policy and the CLI. */
export const IDENTITY_KINDS = ['employee', 'contractor', 'vendor_operator', 'service_account'] as const;
export type IdentityKind = (typeof IDENTITY_KINDS)[number];

export const IDENTITY_STATUSES = ['pending', 'active', 'suspended', 'terminated'] as const;
export type IdentityStatus = (typeof IDENTITY_STATUSES)[number];

export const TIERS = ['read', 'standard', 'privileged'] as const;
export type Tier = (typeof TIERS)[number];

export const CRITICALITIES = ['low', 'medium', 'high', 'critical'] as const;
export const VENDOR_KINDS = ['managed_service_provider', 'system_integrator', 'staffing_agency', 'other'] as const;
export const ENGAGEMENT_PATTERNS = ['short_term_developer', 'system_integrator', 'managed_service', 'analyst', 'support'] as const;
export const DATA_SENSITIVITIES = ['public', 'internal', 'confidential', 'restricted'] as const;

export const REQUEST_KINDS = ['new', 'extension', 'scope_change'] as const;
export type RequestKind = (typeof REQUEST_KINDS)[number] | 'break_glass';
export type RequestStatus = 'pending' | 'approved' | 'denied' | 'cancelled' | 'expired';

export type StageKind = 'sponsor' | 'system_owner' | 'security';
export type GrantStatus = 'scheduled' | 'active' | 'expired' | 'revoked';
export type GrantOrigin = 'request' | 'birthright' | 'break_glass';

/**
 * `checker`: a system (usually a service account) that asks the decision point about anyone's access.
 * `hr_feed`: the HR system's integration, which sends hire, change and leave events and nothing else.
 */
export const ROLES = ['admin', 'security', 'iam', 'auditor', 'checker', 'hr_feed'] as const;
export type Role = (typeof ROLES)[number];

export const isHuman = (kind: IdentityKind): boolean => kind !== 'service_account';
export const isNonEmployee = (kind: IdentityKind): boolean => kind === 'contractor' || kind === 'vendor_operator';

export interface IdentityRow {
  id: string;
  handle: string;
  displayName: string;
  kind: IdentityKind;
  status: IdentityStatus;
  managerId: string | null;
  sponsorId: string | null;
  ownerId: string | null;
  /** Who created the identity (a party to its requests); absent when not loaded. */
  createdBy?: string | null;
}
