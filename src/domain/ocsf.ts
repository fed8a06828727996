/**
 * How each audit action of Tenure reads in OCSF (the Open Cybersecurity Schema Framework), for the
 * JSON form of the SIEM stream. One table, written once: the stream builds its records from it and
 * `npm run docs:siem` renders it into docs/siem.md. Keyed by action name (domain/ may not import the
 * audit layer's typed list); a test checks that every audit event type has a row here.
 *
 * Only Identity & Access Management classes (category 3) are used. An action that is not an IAM
 * change (a notice, a review's bookkeeping, a finding) is sent as an OCSF Base Event on purpose
 * (class 0, activity 99 "Other"), with the reason in `note`, rather than forced into a class that
 * would mislead a SIEM rule: the IAM change it leads to has its own event (a review's revocation is
 * a `grant.revoked`).
 */

export const OCSF_SCHEMA_VERSION = '1.3.0';
export const OCSF_IAM_CATEGORY = { uid: 3, name: 'Identity & Access Management' } as const;

export const OCSF_CLASSES = {
  0: { name: 'Base Event', activities: { 99: 'Other' } },
  3001: { name: 'Account Change', activities: { 1: 'Create', 2: 'Enable', 3: 'Password Change', 5: 'Disable', 6: 'Delete', 99: 'Other' } },
  3002: { name: 'Authentication', activities: { 1: 'Logon', 2: 'Logoff', 99: 'Other' } },
  3003: { name: 'Authorize Session', activities: { 1: 'Assign Privileges', 2: 'Assign Groups', 99: 'Other' } },
  3004: { name: 'Entity Management', activities: { 1: 'Create', 3: 'Update', 4: 'Delete', 11: 'Deactivate', 99: 'Other' } },
  3005: { name: 'User Access Management', activities: { 1: 'Assign Privileges', 2: 'Revoke Privileges', 99: 'Other' } },
  3006: { name: 'Group Management', activities: { 3: 'Add User', 4: 'Remove User', 99: 'Other' } },
} as const satisfies Record<number, { name: string; activities: Record<number, string> }>;

export type OcsfClassUid = keyof typeof OCSF_CLASSES;

/** OCSF severity_id: 1 Informational, 2 Low, 3 Medium, 4 High. */
export type OcsfSeverity = 1 | 2 | 3 | 4;
export const OCSF_SEVERITY_NAMES: Record<OcsfSeverity, string> = { 1: 'Informational', 2: 'Low', 3: 'Medium', 4: 'High' };

export interface OcsfMapping { classUid: OcsfClassUid; activityId: number; severityId: OcsfSeverity; note: string }

const m = (classUid: OcsfClassUid, activityId: number, note: string, severityId: OcsfSeverity = 1): OcsfMapping =>
  ({ classUid, activityId, severityId, note });
/** The explicit "not an IAM change" decision. */
const base = (note: string, severityId: OcsfSeverity = 1): OcsfMapping => m(0, 99, note, severityId);

export const OCSF_MAPPING: Readonly<Record<string, OcsfMapping>> = {
  'setup.initialised': m(3004, 1, 'the Tenure installation is created'),
  'identity.created': m(3001, 1, 'an identity (person, contractor, service account) is created'),
  'identity.status_changed': m(3001, 99, 'the new status (pending, active, suspended, terminated) is in unmapped.tenure'),
  'identity.sponsor_changed': m(3001, 99, 'the accountable sponsor changes'),
  'identity.operator_changed': m(3001, 99, 'the operator of a non-human identity changes'),
  'identity.attributes_changed': m(3001, 99, 'HR attributes change'),
  'identity.mail_delivery_changed': m(3001, 99, 'whether mail comes at once or as a daily digest changes'),
  'role.granted': m(3006, 3, 'a Tenure role is a named group of permissions in Tenure itself'),
  'role.removed': m(3006, 4, 'a member leaves a Tenure role'),
  'vendor.created': m(3004, 1, 'entity: vendor'),
  'vendor.contract_end_changed': m(3004, 3, 'entity: vendor'),
  'vendor.contract_ended': m(3004, 11, 'entity: vendor; its people\'s grants end with their own events'),
  'vendor.expiring_soon': base('a notice; nothing changes'),
  'engagement.created': m(3004, 1, 'entity: engagement'),
  'engagement.end_changed': m(3004, 3, 'entity: engagement'),
  'engagement.ended': m(3004, 11, 'entity: engagement'),
  'engagement.expiring_soon': base('a notice; nothing changes'),
  'engagement.renewal_requested': m(3004, 99, 'entity: engagement'),
  'engagement.renewed': m(3004, 3, 'entity: engagement'),
  'engagement.renewal_lapsed': m(3004, 99, 'entity: engagement'),
  'policy.applied': m(3004, 3, 'entity: the access policy'),
  'request.created': base('a request asks; access changes only with grant.*'),
  'request.stage_approved': base('one approval stage of a request'),
  'request.rerouted': base('a request stage moves to other approvers'),
  'request.escalated': base('a stage that waited too long is opened to its alternates'),
  'request.queued': base('approved, waiting in line for a shared account someone holds'),
  'shared_account.handed_over': base('a shared account came free and the first in its line got it; the grant is grant.created'),
  'request.approved': base('the decision; the grant follows as grant.created'),
  'request.denied': base('a decision that changes no access'),
  'request.cancelled': base('the requester withdraws'),
  'request.shortened': base('the asked duration is shortened before approval'),
  'request.expired': base('nobody decided in time'),
  'exception.created': base('an accepted risk on a finding'),
  'grant.created': m(3005, 1, 'access is granted (effective now or at its start)'),
  'grant.activated': m(3005, 1, 'a scheduled grant starts'),
  'grant.extended': m(3005, 99, 'the end of a grant moves later'),
  'grant.shortened': m(3005, 99, 'the end of a grant moves earlier'),
  'grant.expired': m(3005, 2, 'access ends at its end date'),
  'grant.revoked': m(3005, 2, 'access is taken away before its end'),
  'grant.expiring_soon': base('a notice; nothing changes'),
  'breakglass.activated': m(3005, 1, 'emergency access, reviewed afterwards', 4),
  'breakglass.reviewed': base('the after-the-fact review of emergency access'),
  'review.campaign_opened': base('access review bookkeeping'),
  'review.decided': base('a reviewer\'s decision; a removal follows as grant.revoked'),
  'review.defaulted': base('an undecided review item took its default; a removal follows as grant.revoked'),
  'review.item_voided': base('access review bookkeeping'),
  'review.campaign_closed': base('access review bookkeeping'),
  'grant.provisioned': m(3005, 1, 'the target system now holds the access'),
  'grant.deprovisioned': m(3005, 2, 'the target system no longer holds the access'),
  'grant.credential_issued': m(3001, 3, 'a credential for the grant\'s account is set'),
  'grant.credential_removed': m(3001, 99, 'the grant\'s credential is removed'),
  'provisioning.failed': base('a connector failed; retried', 3),
  'provisioning.task_opened': base('a manual provisioning task waits for a person'),
  'provisioning.task_confirmed': base('a person confirmed a manual task; the grant event follows'),
  'provisioning.held': base('removals held for a person to release', 3),
  'provisioning.released': base('held removals released'),
  'provisioning.resolved': base('a failed job resolved by hand'),
  'credential.registered': m(3004, 1, 'entity: a non-human credential'),
  'credential.rotated': m(3001, 3, 'a non-human credential is rotated'),
  'credential.retired': m(3004, 4, 'entity: a non-human credential'),
  'credential.retirement_due': base('a notice; nothing changes'),
  'hr.event_applied': base('an HR event; the identity and grant changes it causes have their own events'),
  'hr.batch_held': base('an HR batch held for a person to confirm', 3),
  'hr.batch_confirmed': base('HR batch bookkeeping'),
  'hr.batch_discarded': base('HR batch bookkeeping'),
  'ownership.reassigned': m(3004, 3, 'the owner of an identity, system or grant changes'),
  'finding.opened': base('belongs to the OCSF Findings category, not IAM', 3),
  'finding.resolved': base('belongs to the OCSF Findings category, not IAM'),
  'finding.accepted': base('belongs to the OCSF Findings category, not IAM'),
  'finding.reopened': base('belongs to the OCSF Findings category, not IAM', 3),
  'reconciliation.completed': base('a comparison with a target system'),
  'access.drift_removed': m(3005, 2, 'access found on a target system without a grant is removed', 3),
  'ssh.certificate_issued': m(3003, 1, 'the certificate\'s principals are the privileges of the SSH sessions it opens'),
  'webhook.created': m(3004, 1, 'entity: webhook subscription'),
  'webhook.deleted': m(3004, 4, 'entity: webhook subscription'),
  'webhook.rekeyed': m(3004, 3, 'entity: webhook secrets'),
  'webhook.secret_rotated': m(3004, 3, 'entity: webhook signing secret'),
  'audit.restore_acknowledged': base('the audit log was restored from a backup and a person acknowledged it', 4),
  'token.created': m(3004, 1, 'entity: API token'),
  'token.revoked': m(3004, 4, 'entity: API token'),
  'session.created': m(3002, 1, 'sign-in to Tenure'),
  'session.ended': m(3002, 2, 'sign-out of Tenure'),
  'proxy_session.started': m(3002, 1, 'logon to a target system through Tenure\'s access proxy'),
  'proxy_session.ended': m(3002, 2, 'logoff from a target system through Tenure\'s access proxy; the recording\'s SHA-256 in the data'),
  'proxy_session.recording_purged': base('retention deleted the statement recordings of ended proxy sessions (their ids in the data); sessions and digests stay'),
};

/** Names of a mapping, and type_uid = class_uid * 100 + activity_id, as OCSF defines it. */
export const ocsfNames = (mapping: OcsfMapping) => {
  const cls = OCSF_CLASSES[mapping.classUid];
  const activity = (cls.activities as Record<number, string>)[mapping.activityId];
  if (activity === undefined) throw new Error(`OCSF class ${mapping.classUid} has no activity ${mapping.activityId} in this table`);
  return { className: cls.name, activityName: activity, typeUid: mapping.classUid * 100 + mapping.activityId, typeName: `${cls.name}: ${activity}` };
};

/** The row of an action; an action missing from the table (which a test forbids) still goes out, as a base event. */
export const ocsfMappingOf = (action: string): OcsfMapping => OCSF_MAPPING[action] ?? base('not in the mapping table');
