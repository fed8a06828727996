/** The vocabulary of the domain: closed lists used by rules, storage checks, policy and the CLI. */
export const IDENTITY_KINDS = ['employee', 'contractor', 'vendor_operator', 'service_account'] as const;
export type IdentityKind = (typeof IDENTITY_KINDS)[number];

export const IDENTITY_STATUSES = ['pending', 'active', 'suspended', 'terminated'] as const;
export type IdentityStatus = (typeof IDENTITY_STATUSES)[number];

export const TIERS = ['read', 'standard', 'privileged'] as const;
export type Tier = (typeof TIERS)[number];

export const CRITICALITIES = ['low', 'medium', 'high', 'critical'] as const;
export type Criticality = (typeof CRITICALITIES)[number];
export const VENDOR_KINDS = ['managed_service_provider', 'system_integrator', 'staffing_agency', 'other'] as const;
export type VendorKind = (typeof VENDOR_KINDS)[number];
export const ENGAGEMENT_PATTERNS = ['short_term_developer', 'system_integrator', 'managed_service', 'analyst', 'support'] as const;
export type EngagementPattern = (typeof ENGAGEMENT_PATTERNS)[number];
export const DATA_SENSITIVITIES = ['public', 'internal', 'confidential', 'restricted'] as const;
export type DataSensitivity = (typeof DATA_SENSITIVITIES)[number];
export const ENGAGEMENT_STATUSES = ['active', 'ended'] as const;
export type EngagementStatus = (typeof ENGAGEMENT_STATUSES)[number];

/** The kinds a person files; `break_glass` requests are written by break-glass alone (ALL_REQUEST_KINDS). */
export const REQUEST_KINDS = ['new', 'extension', 'scope_change'] as const;
export const ALL_REQUEST_KINDS = [...REQUEST_KINDS, 'break_glass'] as const;
export type RequestKind = (typeof ALL_REQUEST_KINDS)[number];
/** A request's status, and each of its stages' (a stage ends with the decision, cancellation or expiry of its request). */
export const REQUEST_STATUSES = ['pending', 'queued', 'approved', 'denied', 'cancelled', 'expired'] as const;
export type RequestStatus = (typeof REQUEST_STATUSES)[number];

export const STAGE_KINDS = ['sponsor', 'system_owner', 'security'] as const;
export type StageKind = (typeof STAGE_KINDS)[number];
export const GRANT_STATUSES = ['scheduled', 'active', 'expired', 'revoked'] as const;
export type GrantStatus = (typeof GRANT_STATUSES)[number];
export const GRANT_ORIGINS = ['request', 'birthright', 'break_glass'] as const;
export type GrantOrigin = (typeof GRANT_ORIGINS)[number];

/**
 * `checker`: a system (usually a service account) that asks the decision point about anyone's access.
 * `hr_feed`: the HR system's integration, which sends hire, change and leave events and nothing else.
 */
export const ROLES = ['admin', 'security', 'iam', 'auditor', 'checker', 'hr_feed'] as const;
export type Role = (typeof ROLES)[number];
/** Where a role assignment comes from: `tenure init` (the first admin) or the applied policy. */
export const ROLE_SOURCES = ['init', 'policy'] as const;
export type RoleSource = (typeof ROLE_SOURCES)[number];

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
