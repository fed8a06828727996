import type { Role } from './model.js';

/**
 * Which Tenure roles may perform each administrative action. Deny by default: an action not listed
 * here is allowed to nobody. Approvals are not here: they are decided by routing, not by role.
 */
export const PERMISSIONS = {
  'identity.create': ['admin', 'iam'],
  'identity.change_status': ['admin', 'iam'],
  'identity.read_all': ['admin', 'iam', 'security', 'auditor'],
  'vendor.create': ['admin', 'iam'],
  'engagement.create': ['admin', 'iam'],
  'engagement.change': ['admin', 'iam'],
  'policy.apply': ['admin', 'security'],
  'policy.read': ['admin', 'security', 'iam', 'auditor'],
  'request.on_behalf_of_anyone': ['admin', 'iam'],
  'request.read_all': ['admin', 'iam', 'security', 'auditor'],
  'grant.revoke_any': ['admin', 'iam', 'security'],
  'grant.read_all': ['admin', 'iam', 'security', 'auditor'],
  'audit.read': ['admin', 'security', 'iam', 'auditor'],
  'audit.checkpoint': ['admin', 'security'],
  'worker.run': ['admin', 'iam'],
  'token.manage_any': ['admin', 'iam'],
  'access.check_any': ['admin', 'iam', 'security', 'checker'],
  'webhook.manage': ['admin', 'security', 'iam'],
} as const satisfies Record<string, readonly Role[]>;

export type Permission = keyof typeof PERMISSIONS;

export const allows = (roles: readonly string[], permission: Permission): boolean =>
  (PERMISSIONS[permission] as readonly string[]).some((role) => roles.includes(role));
