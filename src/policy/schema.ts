/**
 * The policy file format, as zod schemas. Every object is strict so that a typo (`tier` spelt
 * `teir`) is an error rather than a silently ignored key. Durations are parsed to milliseconds here.
 * `version` is checked per file (see load.ts), so these schemas describe the merged document without it.
 */
import { z } from 'zod';
import { isTimeZone, parseCidr, parseClockTime, WEEKDAYS } from '../domain/decision-conditions.js';
import { NOT_UUID_RULE, NOT_UUID_SHAPED } from '../domain/ids.js';
import { CRITICALITIES, IDENTITY_KINDS, STAGE_KINDS, TIERS } from '../domain/model.js';
import { CREDENTIAL_KINDS } from '../domain/credentials.js';
import { CAMPAIGN_SCOPES, REVIEWER_RULES, UNDECIDED_ACTIONS } from '../domain/reviews.js';
import { DEFAULT_PROVISIONING } from '../domain/provisioning.js';
import { DEFAULT_APPROVAL_ESCALATION_MS, DEFAULT_APPROVAL_REMINDER_MS } from '../domain/policy-types.js';
import { duration, durationMs } from './duration-schema.js';
import { connectorSchema, provisioningSchema, reconcileSchema } from './connector-schema.js';
import { evidenceRuleSchema } from './evidence-schema.js';
import { checkSshProxyOnly, forwardingSchema } from './forwarding-schema.js';

export const POLICY_VERSION = 1;
/** The roles a policy may hand out. `admin` is deliberately absent: it comes only from `tenure init`. */
export const POLICY_ROLES = ['security', 'iam', 'auditor', 'checker', 'hr_feed'] as const;
export type PolicyRole = (typeof POLICY_ROLES)[number];

export const keyName = z.string().regex(/^[a-z0-9]+(-[a-z0-9]+)*$/, 'must be lowercase letters, digits and single dashes')
  .regex(NOT_UUID_SHAPED, NOT_UUID_RULE);

/** An identity handle, or `group:<name>`. Handles follow the identity handle rule of operations/input.ts. */
export const personRef = z.string().regex(
  /^(group:[a-z0-9]+(-[a-z0-9]+)*|[a-z0-9][a-z0-9._-]{1,62})$/,
  'must be an identity handle or group:<name>',
).regex(NOT_UUID_SHAPED, NOT_UUID_RULE);


const kindLimits = Object.fromEntries(IDENTITY_KINDS.map((kind) => [kind, durationMs.optional()])) as
  Record<(typeof IDENTITY_KINDS)[number], z.ZodOptional<typeof durationMs>>;

/** A missing value gets `required` as its message; a value of the wrong type gets the default one. */
const whenMissing = (required: string) => ({
  error: (issue: { input?: unknown }) => (issue.input === undefined ? required : undefined),
});

/** A tier with no `default` would have no maximum for kinds not named: refused, every grant must end. */
const tierLimits = (tier: string) => z.strictObject({
  default: duration(`is required: the ${tier} tier needs a default maximum`),
  ...kindLimits,
}, whenMissing(`is required: the ${tier} tier needs a maximum duration`));

export const durationsSchema = z.strictObject({
  read: tierLimits('read'), standard: tierLimits('standard'), privileged: tierLimits('privileged'),
}, whenMissing('is required: define the read, standard and privileged maximums'));

const mustBeTrue = z.literal(true, { error: 'must be true (leave the condition out when it is not required)' });

/** Allowed hours of use; see docs/decision-point.md. `from` after `to` spans midnight. */
export const hoursSchema = z.strictObject({
  from: z.string().refine((v) => parseClockTime(v) !== undefined, 'must be a time HH:MM on a 24-hour clock, such as 08:00'),
  to: z.string().refine((v) => parseClockTime(v, true) !== undefined, 'must be a time HH:MM on a 24-hour clock, such as 18:00 (24:00 for midnight)'),
  timezone: z.string().refine(isTimeZone, 'must be an IANA time zone such as Europe/Paris or UTC').optional(),
  days: z.array(z.enum(WEEKDAYS)).min(1, 'must name at least one day').optional(),
}).refine((h) => h.from !== h.to, { message: 'from and to must differ', path: ['to'] });

/** The closed vocabulary the decision point checks at every answer (docs/decision-point.md). */
export const conditionsSchema = z.strictObject({
  mfa: mustBeTrue.optional(),
  /** How recent the MFA behind the attempt must be (12h): a token or certificate minted from an older sign-in is refused. Implies mfa. */
  mfa_max_age: durationMs.optional(),
  trusted_device: mustBeTrue.optional(),
  ticket: mustBeTrue.optional(),
  hours: hoursSchema.optional(),
  source_cidrs: z.array(z.string().refine((v) => parseCidr(v) !== undefined, 'must be a network such as 10.0.0.0/8 or 2001:db8::/32'))
    .min(1, 'must name at least one network').optional(),
});

export const entitlementSchema = z.strictObject({
  name: z.string().trim().min(1, 'must not be empty'),
  tier: z.enum(TIERS),
  max_duration: durationMs.optional(),
  /** What the target system calls the operations this entitlement permits (`select`, `deploy`), for checks by system and action. */
  actions: z.array(z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._:-]*$/, 'must be an action name such as select or deploy')).optional(),
  conditions: conditionsSchema.optional(),
  /** May be taken at once in an emergency by the policy's break-glass users (never birthright, always reviewed). */
  break_glass: z.literal(true, { error: 'must be true (leave it out when the entitlement is not break-glass capable)' }).optional(),
  /** Its name in the target system (role, group, principal); default: the entitlement's own name. */
  target: z.string().trim().min(1, 'must not be empty').max(200).optional(),
  /** Says, on purpose, that the target is a built-in or administrative role (postgres, pg_*, Domain Admins): only at tier privileged. */
  privileged_target: z.literal(true, { error: 'must be true (leave it out for an ordinary role or group)' }).optional(),
  /** Destinations a session through the SSH proxy may forward to (`ssh -L`, `-W`); only on a proxied ssh-ca system. */
  forwarding: forwardingSchema.optional(),
  /** `false`: no SFTP and no `scp` through the SSH proxy for this entitlement; left out, file transfer is allowed and recorded. */
  file_transfer: z.boolean({ error: 'must be true or false (leave it out to allow file transfer, recorded)' }).optional(),
});

/** A shared operational account (a role of the target, `app_admin`): declared like an entitlement, minus what a shared role cannot have. */
export const sharedAccountSchema = entitlementSchema.omit({ actions: true });

type EntitlementSpec = z.output<typeof entitlementSchema> & { shared_account?: true };

const systemFields = z.strictObject({
  name: z.string().trim().min(1, 'must not be empty'),
  business_owner: personRef,
  technical_owner: personRef,
  criticality: z.enum(CRITICALITIES),
  entitlements: z.record(keyName, entitlementSchema).default({}),
  /** Shared operational accounts: become entitlements flagged `shared_account` (see withSharedAccounts). */
  shared_accounts: z.record(keyName, sharedAccountSchema).optional(),
  /** How access is made real in the system; without one, provisioning and removal are manual tasks for the technical owner. */
  connector: connectorSchema.optional(),
  reconcile: reconcileSchema.optional(),
  /** How long a proxied session's statement lines are kept after it ends (absent: kept); the session and its digest stay. */
  recordings: durationMs.optional(),
});
type SystemFields = z.output<typeof systemFields>;

/**
 * `shared_accounts` are entitlements of the system with `shared_account: true` (docs/sessions.md):
 * requested, approved, granted, decided and revoked by the same machinery, checked out by one
 * person at a time and used only through a proxy, so only a proxied postgres-roles or ssh-ca system may declare them.
 */
const withSharedAccounts = (system: SystemFields, ctx: z.RefinementCtx): Omit<SystemFields, 'shared_accounts' | 'entitlements'>
  & { entitlements: Record<string, EntitlementSpec> } => {
  const { shared_accounts: shared = {}, ...rest } = system;
  const names = Object.keys(shared);
  const proxied = (rest.connector?.type === 'postgres-roles' || rest.connector?.type === 'ssh-ca') && rest.connector.proxy !== undefined;
  if (names.length > 0 && !proxied) {
    ctx.addIssue({ code: 'custom', path: ['shared_accounts'], message: 'shared accounts are used only through Tenure\'s proxies: '
      + 'the system needs a postgres-roles or ssh-ca connector with a proxy block' });
  }
  for (const name of names.filter((n) => n in rest.entitlements)) {
    ctx.addIssue({ code: 'custom', path: ['shared_accounts', name], message: `'${name}' is also an entitlement of the system: keys must differ` });
  }
  const flagged = Object.fromEntries(Object.entries(shared).map(([name, spec]) => [name, { ...spec, shared_account: true as const }]));
  return { ...rest, entitlements: { ...rest.entitlements, ...flagged } };
};

export const systemSchema = systemFields.superRefine(checkSshProxyOnly).transform(withSharedAccounts);

export const sodRuleSchema = z.strictObject({
  name: keyName,
  /** Nobody may hold all of them together: two for a maker-checker pair, more for a toxic combination. */
  entitlements: z.array(z.string()).min(2, 'must name at least two entitlements').max(10, 'must name at most 10 entitlements'),
  reason: z.string().trim().min(1).optional(),
});

const refList = z.array(personRef);

/** Who may approve whom: every rule is on unless the policy switches it off by name (see domain/approver-rules.ts). */
export const approverRulesSchema = z.strictObject({
  accountable_not_security: z.boolean().default(true),
  not_same_vendor: z.boolean().default(true),
  not_conflicting_holder: z.boolean().default(true),
});

export const approvalSchema = z.strictObject({
  system_owner: z.enum(['business', 'technical', 'either']).default('either'),
  alternates: z.partialRecord(z.enum(STAGE_KINDS), refList).default({}),
  rules: approverRulesSchema.prefault({}),
  /** A waiting stage's approvers are reminded once after this long (default 1d)... */
  remind_after: durationMs.optional(),
  /** ...and after this long it escalates: the stage's alternates may decide it too (default 3d). */
  escalate_after: durationMs.optional(),
}).refine((a) => (a.escalate_after ?? DEFAULT_APPROVAL_ESCALATION_MS) > (a.remind_after ?? DEFAULT_APPROVAL_REMINDER_MS),
  { message: 'must be longer than remind_after (default 1d; escalation default 3d): a stage is reminded before it escalates', path: ['escalate_after'] });

export const breakGlassSchema = z.strictObject({
  /** Who may break the glass: people or groups. */
  users: refList.default([]),
  /** Who reviews after use when the system's owners cannot (they are the user): people or groups. */
  reviewers: refList.default([]),
  max_ttl: durationMs.refine((v) => v <= 4 * 3_600_000, 'must be at most 4h').optional(),
  review_due: durationMs.optional(),
});

const credentialRule = z.strictObject({ max_age: durationMs.optional(), rotation: durationMs.optional() });
/** Per kind of credential: how long one may live and how often it must be rotated; when one unused is a finding. */
export const credentialsSchema = z.strictObject({
  unused_after: durationMs.optional(),
  ...Object.fromEntries(CREDENTIAL_KINDS.map((kind) => [kind, credentialRule.optional()])) as
    Record<(typeof CREDENTIAL_KINDS)[number], z.ZodOptional<typeof credentialRule>>,
});

const share = z.union([
  z.number().min(0).max(1),
  z.string().regex(/^\d+(\.\d+)?%$/, 'must be a share such as 5% or 0.05').transform((v) => Number(v.slice(0, -1)) / 100)
    .refine((v) => v <= 1, 'must be at most 100%'),
], { error: 'must be a share such as 5% or 0.05' });
const label = z.string().trim().min(1, 'must not be empty').max(200);

export const hrSchema = z.strictObject({
  /** The HR systems whose events are accepted; leave out to accept any source name. */
  sources: z.array(keyName).min(1, 'must name at least one source').optional(),
  contractor_classes: z.array(label).optional(),
  brake: z.strictObject({ share: share.optional(), minimum: z.number().int().min(0).optional() }).optional(),
  reassign_within: durationMs.optional(),
  mover_review_within: durationMs.optional(),
  late_after: durationMs.optional(),
});

const valueList = z.array(label).min(1, 'must list at least one value');
export const accessProfileSchema = z.strictObject({
  match: z.strictObject({
    department: valueList.optional(), title: valueList.optional(), location: valueList.optional(), employment_class: valueList.optional(),
  }).refine((m) => Object.keys(m).length > 0, 'must name at least one attribute (department, title, location, employment_class)'),
  entitlements: z.array(z.string()).min(1, 'must name at least one entitlement'),
});

export const campaignSchema = z.strictObject({
  grants: z.enum(CAMPAIGN_SCOPES.filter((s) => s !== 'engagement') as ['non_employee', 'privileged', 'system', 'all']),
  system: keyName.optional(),
  reviewer: z.enum(REVIEWER_RULES),
  every: durationMs,
  due_in: durationMs,
  undecided: z.enum(UNDECIDED_ACTIONS).optional(),
}).refine((c) => (c.grants === 'system') === (c.system !== undefined),
  { message: 'system is required with grants: system, and only then', path: ['system'] });

export const reviewsSchema = z.strictObject({
  campaigns: z.record(keyName, campaignSchema).default({}),
  event_due_in: durationMs.optional(),
  /** How long before a campaign is due each undecided item's reviewer is reminded (default 2d). */
  remind_before: durationMs.optional(),
});

export const requestsSchema = z.strictObject({
  pending_expires_after: durationMs.optional(),
});

/** The merged policy document, one schema per top-level section so each can be parsed alone. */
export const SECTIONS = {
  groups: z.record(keyName, refList).default({}),
  roles: z.partialRecord(z.enum(POLICY_ROLES), refList).default({}),
  durations: durationsSchema,
  requests: requestsSchema.default({}),
  break_glass: breakGlassSchema.default({ users: [], reviewers: [] }),
  credentials: credentialsSchema.default({}),
  approval: approvalSchema.prefault({}),
  separation_of_duties: z.array(sodRuleSchema).default([]),
  evidence: z.record(keyName, evidenceRuleSchema).default({}),
  hr: hrSchema.default({}),
  access_profiles: z.record(keyName, accessProfileSchema).default({}),
  reviews: reviewsSchema.default({ campaigns: {} }),
  systems: z.record(keyName, systemSchema).default({}),
  provisioning: provisioningSchema.default({
    brake: DEFAULT_PROVISIONING.brake, max_attempts: DEFAULT_PROVISIONING.maxAttempts,
    shared_account_patterns: DEFAULT_PROVISIONING.sharedAccountPatterns,
  }),
};

export const policyDocumentSchema = z.strictObject(SECTIONS);
export type PolicyDocument = z.output<typeof policyDocumentSchema>;
export type SystemSpec = z.output<typeof systemSchema>;
export type SectionName = keyof typeof SECTIONS;
