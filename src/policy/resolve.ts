/**
 * Resolves the people a valid policy names against the database: every handle must be an existing,
 * active, human identity (a service account approves nothing and owns no system), and groups are
 * expanded to identity ids. The result is what plan and apply compare and write.
 */
import { inArray } from 'drizzle-orm';
import { BREAK_GLASS_HARD_MAX_MS, DEFAULT_REVIEW_DUE_MS } from '../domain/break-glass.js';
import { DEFAULT_HR_SETTINGS, type HrSettings } from '../domain/hr.js';
import { DEFAULT_REVIEW_REMINDER_MS, DEFAULT_REVIEW_SETTINGS } from '../domain/reviews.js';
import { CREDENTIAL_KINDS, DEFAULT_CREDENTIAL_SETTINGS, type CredentialSettings } from '../domain/credentials.js';
import { decisionSettingsOf } from '../domain/decision-settings.js';
import { provisioningSettingsOf } from './provisioning-settings.js';
import { isHuman, STAGE_KINDS, type Criticality, type IdentityKind, type IdentityStatus, type StageKind, type Tier } from '../domain/model.js';
import { DEFAULT_APPROVAL_ESCALATION_MS, DEFAULT_APPROVAL_REMINDER_MS, DEFAULT_PENDING_EXPIRY_MS, type AppliedPolicy } from '../domain/policy-types.js';
import { TenureError } from '../domain/errors.js';
import type { Executor } from '../store/database.js';
import { identities } from '../store/schema.js';
import { formatIssue, formatPath, type PolicyIssue, type PolicySource } from './load.js';
import { groupName, personRefs } from './references.js';
import { evidenceRulesOf } from './evidence-schema.js';
import type { PolicyRole } from './schema.js';
import { validatePolicyFiles, type ParsedPolicy } from './validate.js';

export interface RoleHolder { role: PolicyRole; identityId: string; handle: string }
export interface ResolvedEntitlement { key: string; name: string; tier: Tier; maxDurationMs: number | null; sharedAccount: boolean }
export interface ResolvedSystem {
  key: string; name: string; criticality: Criticality; businessOwnerId: string; technicalOwnerId: string;
  entitlements: ResolvedEntitlement[];
}

export interface ResolvedPolicy {
  parsed: ParsedPolicy;
  systems: ResolvedSystem[];
  /** Who should hold each role with source 'policy', groups expanded, without duplicates. */
  roleHolders: RoleHolder[];
  /** The document stored in policy_state, as the lifecycle reads it. */
  document: AppliedPolicy;
  /** Handles of every identity named, by id, for messages. */
  handles: Map<string, string>;
}

type Person = { id: string; handle: string; kind: IdentityKind; status: IdentityStatus };

/**
 * `checker` is the one role a machine may hold, named directly (never through a group, which could
 * also be used for approvals): sshd's AuthorizedPrincipalsCommand and other enforcement points ask
 * the decision point with a service account's token, and a checker approves and owns nothing. `hr_feed`
 * is the same for the HR integration: it sends events, and only people decide what happens to a held batch.
 */
const machineMayHold = (path: readonly (string | number)[]): boolean => path[0] === 'roles' && (path[1] === 'checker' || path[1] === 'hr_feed');

const personProblem = (ref: string, person: Person | undefined, path: readonly (string | number)[]): string | undefined => {
  if (!person) return `unknown identity '${ref}'`;
  if (person.status !== 'active') return `'${ref}' is ${person.status}: the policy may only name active identities`;
  if (!isHuman(person.kind) && !machineMayHold(path)) {
    return `'${ref}' is a service account: the policy may only name people (a service account may only hold roles.checker or roles.hr_feed)`;
  }
  return undefined;
};

/** The identity ids behind a list of references, groups expanded (validation has ruled out cycles). */
const expand = (refs: readonly string[], groups: Record<string, string[]>, people: Map<string, Person>): string[] => {
  const ids = new Set<string>();
  const walk = (list: readonly string[]) => {
    for (const ref of list) {
      const group = groupName(ref);
      if (group !== undefined) walk(groups[group] ?? []);
      else { const person = people.get(ref); if (person) ids.add(person.id); }
    }
  };
  walk(refs);
  return [...ids];
};

const hrSettingsOf = (doc: ParsedPolicy['document']): HrSettings => ({
  sources: doc.hr.sources ?? DEFAULT_HR_SETTINGS.sources,
  contractorClasses: doc.hr.contractor_classes ?? DEFAULT_HR_SETTINGS.contractorClasses,
  brake: { share: doc.hr.brake?.share ?? DEFAULT_HR_SETTINGS.brake.share, minimum: doc.hr.brake?.minimum ?? DEFAULT_HR_SETTINGS.brake.minimum },
  reassignWithinMs: doc.hr.reassign_within ?? DEFAULT_HR_SETTINGS.reassignWithinMs,
  moverReviewWithinMs: doc.hr.mover_review_within ?? DEFAULT_HR_SETTINGS.moverReviewWithinMs,
  lateAfterMs: doc.hr.late_after ?? DEFAULT_HR_SETTINGS.lateAfterMs,
});

const toDocument = (parsed: ParsedPolicy, people: Map<string, Person>): AppliedPolicy => {
  const doc = parsed.document;
  const alternates = Object.fromEntries(STAGE_KINDS.map((stage) =>
    [stage, expand(doc.approval.alternates[stage] ?? [], doc.groups, people)])) as Record<StageKind, string[]>;
  return {
    version: 1,
    durations: doc.durations,
    requests: { pendingExpiresAfterMs: doc.requests.pending_expires_after ?? DEFAULT_PENDING_EXPIRY_MS },
    approval: { systemOwner: doc.approval.system_owner, alternates, rules: {
      accountableNotSecurity: doc.approval.rules.accountable_not_security, notSameVendor: doc.approval.rules.not_same_vendor,
      notConflictingHolder: doc.approval.rules.not_conflicting_holder,
    }, remindAfterMs: doc.approval.remind_after ?? DEFAULT_APPROVAL_REMINDER_MS, escalateAfterMs: doc.approval.escalate_after ?? DEFAULT_APPROVAL_ESCALATION_MS },
    separationOfDuties: doc.separation_of_duties.map((rule) =>
      ({ name: rule.name, entitlements: rule.entitlements, reason: rule.reason ?? null })),
    evidence: evidenceRulesOf(doc.evidence),
    decision: decisionSettingsOf(doc),
    provisioning: provisioningSettingsOf(doc),
    credentials: {
      rules: Object.fromEntries(CREDENTIAL_KINDS.map((kind) => {
        const base = DEFAULT_CREDENTIAL_SETTINGS.rules[kind];
        const set = doc.credentials[kind];
        return [kind, { maxAgeMs: set?.max_age ?? base.maxAgeMs, rotationMs: set?.rotation ?? base.rotationMs }];
      })) as CredentialSettings['rules'],
      unusedAfterMs: doc.credentials.unused_after ?? DEFAULT_CREDENTIAL_SETTINGS.unusedAfterMs,
    },
    hr: hrSettingsOf(doc),
    accessProfiles: Object.entries(doc.access_profiles).map(([name, profile]) =>
      ({ name, match: profile.match, entitlements: profile.entitlements })),
    reviews: {
      campaigns: Object.entries(doc.reviews.campaigns).map(([key, c]) => ({
        key, grants: c.grants, system: c.system ?? null, reviewer: c.reviewer, everyMs: c.every, dueInMs: c.due_in, undecided: c.undecided ?? null,
      })),
      eventDueInMs: doc.reviews.event_due_in ?? DEFAULT_REVIEW_SETTINGS.eventDueInMs,
      remindBeforeMs: doc.reviews.remind_before ?? DEFAULT_REVIEW_REMINDER_MS,
    },
    recordingRetentionMs: Object.fromEntries(Object.entries(doc.systems).flatMap(([key, system]) =>
      system.recordings === undefined ? [] : [[key, system.recordings]])),
    breakGlass: {
      entitlements: Object.entries(doc.systems).flatMap(([key, system]) =>
        Object.entries(system.entitlements).filter(([, e]) => e.break_glass).map(([name]) => `${key}/${name}`)),
      userIds: expand(doc.break_glass.users, doc.groups, people),
      reviewerIds: expand(doc.break_glass.reviewers, doc.groups, people),
      maxTtlMs: doc.break_glass.max_ttl ?? BREAK_GLASS_HARD_MAX_MS,
      reviewDueMs: doc.break_glass.review_due ?? DEFAULT_REVIEW_DUE_MS,
    },
  };
};

const toSystems = (parsed: ParsedPolicy, people: Map<string, Person>): ResolvedSystem[] =>
  Object.entries(parsed.document.systems).map(([key, spec]) => ({
    key, name: spec.name, criticality: spec.criticality,
    businessOwnerId: people.get(spec.business_owner)!.id, technicalOwnerId: people.get(spec.technical_owner)!.id,
    entitlements: Object.entries(spec.entitlements).map(([name, e]) => ({
      key: `${key}/${name}`, name: e.name, tier: e.tier, maxDurationMs: e.max_duration ?? null, sharedAccount: e.shared_account === true,
    })),
  }));

/** Resolves a statically valid policy; `errors` name the file and line of each unusable reference. */
export const resolvePolicy = async (
  exec: Executor, parsed: ParsedPolicy,
): Promise<{ errors: PolicyIssue[]; resolved?: ResolvedPolicy }> => {
  const refs = personRefs({ ...parsed.document, brokenSystems: new Set() }).filter((r) => groupName(r.ref) === undefined);
  const handles = [...new Set(refs.map((r) => r.ref))];
  const rows = handles.length === 0 ? [] : await exec
    .select({ id: identities.id, handle: identities.handle, kind: identities.kind, status: identities.status })
    .from(identities).where(inArray(identities.handle, handles));
  const people = new Map(rows.map((row) => [row.handle, row]));
  const errors: PolicyIssue[] = [];
  for (const { path, ref } of refs) {
    const problem = personProblem(ref, people.get(ref), path);
    if (problem) errors.push({ ...parsed.locate(path), path: formatPath(path), message: problem });
  }
  if (errors.length > 0) return { errors };
  const doc = parsed.document;
  const roleHolders = Object.entries(doc.roles).flatMap(([role, list]) =>
    expand(list ?? [], doc.groups, people).map((identityId) => ({ role: role as PolicyRole, identityId, handle: '' })));
  const byId = new Map(rows.map((row) => [row.id, row.handle]));
  for (const holder of roleHolders) holder.handle = byId.get(holder.identityId)!;
  return {
    errors,
    resolved: { parsed, systems: toSystems(parsed, people), roleHolders, document: toDocument(parsed, people), handles: byId },
  };
};

/** The refusal for a policy with errors: every error on its own line, and the list in `details`. */
export const invalidPolicy = (errors: PolicyIssue[]): TenureError =>
  new TenureError('policy.invalid',
    `the policy has ${errors.length} error${errors.length === 1 ? '' : 's'}:\n${errors.map(formatIssue).join('\n')}`,
    { details: { errors } });

/** Static validation of the files, refused with 'policy.invalid' listing every error. Reads no database. */
export const parsePolicyOrRefuse = async (path: PolicySource): Promise<ParsedPolicy> => {
  const validation = await validatePolicyFiles(path);
  if (!validation.policy) throw invalidPolicy(validation.errors);
  return validation.policy;
};

/** Resolution against the database, refused with 'policy.invalid' naming each unusable reference. */
export const resolvePolicyOrRefuse = async (exec: Executor, parsed: ParsedPolicy): Promise<ResolvedPolicy> => {
  const { errors, resolved } = await resolvePolicy(exec, parsed);
  if (!resolved) throw invalidPolicy(errors);
  return resolved;
};
