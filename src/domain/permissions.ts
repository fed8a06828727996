import type { Role } from './model.js';

/**
 * Which Tenure roles may perform each administrative action. Deny by default: an action not listed
 * here is allowed to nobody. Approvals are not here: they are decided by routing, not by role.
 */
export const PERMISSIONS = {
  'identity.create': ['admin', 'iam'],
  'identity.change_status': ['admin', 'iam'],
  'identity.read_all': ['admin', 'iam', 'security', 'auditor'],
  /** Move a service account to another vendor's operation, or in-house (never one's own account: see change-identity-operator.ts). */
  'identity.change_operator': ['admin', 'iam'],
  'vendor.create': ['admin', 'iam'],
  /** Move any vendor's contract end (the vendor's relationship owner may move their own without it). */
  'vendor.change': ['admin', 'iam'],
  /** See every vendor with its people, engagements, service accounts and evidence (relationship owners see their own). */
  'vendor.read_all': ['admin', 'iam', 'security', 'auditor'],
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
  /** Re-encrypt every webhook secret and URL under the current key of the key ring: key custody, a security matter. */
  'webhook.rekey': ['admin', 'security'],
  /** Provisioning jobs, findings and reconciliation results: everyone who answers for access, and auditors. */
  'provisioning.read': ['admin', 'iam', 'security', 'auditor'],
  /** Run reconciliation, confirm manual tasks on any system, give up on a job handled out of band. */
  'provisioning.operate': ['admin', 'iam', 'security'],
  /** Let revocations held by the mass-revocation brake go ahead: a security decision. */
  'provisioning.release_brake': ['admin', 'security'],
  'finding.resolve': ['admin', 'iam', 'security'],
  /** Register, rotate and retire anyone's credentials (owners manage their own service accounts' without it). */
  'credential.manage_any': ['admin', 'iam'],
  'credential.read_all': ['admin', 'iam', 'security', 'auditor'],
  /** Accept a finding's risk as an exception for a while: a security decision. */
  'finding.accept': ['admin', 'security'],
  /** Decide any break-glass review (the escalation path when the named reviewer does not), and see them all. */
  'breakglass.review_any': ['admin', 'security'],
  'breakglass.read_all': ['admin', 'security', 'auditor'],
  /** See every proxied session and its recording (the person, those who answer for them and the system's owners see theirs). */
  'proxy_session.read_all': ['admin', 'security', 'auditor'],
  /** Open an access review campaign by hand (scheduled ones come from the policy file). */
  'review.manage': ['admin', 'iam', 'security'],
  /** See every review item, whoever reviews it, with its evidence and decision. */
  'review.read_all': ['admin', 'iam', 'security', 'auditor'],
  /** Ask which SSH principals a login may use (sshd's AuthorizedPrincipalsCommand runs with a checker's token). */
  'ssh.principals': ['admin', 'checker'],
  /** Send HR events (hire, change, leave): the HR integration, or IAM importing a file. */
  'hr.ingest': ['admin', 'iam', 'hr_feed'],
  'hr.read': ['admin', 'iam', 'security', 'auditor'],
  /** Let an HR batch held by the suspension brake go ahead, or discard it: a security decision. */
  'hr.release_brake': ['admin', 'security'],
  /** Move what a leaver sponsored or owned to someone else (the leaver's manager may too). */
  'identity.reassign': ['admin', 'iam'],
} as const satisfies Record<string, readonly Role[]>;

export type Permission = keyof typeof PERMISSIONS;

export const allows = (roles: readonly string[], permission: Permission): boolean =>
  (PERMISSIONS[permission] as readonly string[]).some((role) => roles.includes(role));

/**
 * The permissions `added` roles would give someone holding `held` that they do not have yet. A
 * policy apply that gives its applier any is a self-grant: an administrator (who already has every
 * permission) adding themselves to a role gains nothing, a security officer adding themselves to IAM does.
 */
export const gainedPermissions = (held: readonly string[], added: readonly string[]): Permission[] =>
  (Object.keys(PERMISSIONS) as Permission[]).filter((p) => !allows(held, p) && allows([...held, ...added], p));
