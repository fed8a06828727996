/**
 * What applying a resolved policy would change, computed against the database: systems and
 * entitlements added, changed (field by field) or retired, policy role assignments added or
 * removed, and settings (durations, routing, separation of duties) changed. Apply writes exactly
 * this plan, so what a reviewer reads in `tenure policy plan` is what happens.
 */
import { eq } from 'drizzle-orm';
import { APPROVER_RULE_NAMES, DEFAULT_APPROVER_RULES } from '../domain/approver-rules.js';
import { flattenDecisionSettings } from '../domain/decision-settings.js';
import type { EvidenceRule } from '../domain/evidence.js';
import { formatDuration } from '../domain/durations.js';
import { TIERS, IDENTITY_KINDS, STAGE_KINDS } from '../domain/model.js';
import { approvalTimingOf, type AppliedPolicy } from '../domain/policy-types.js';
import type { Executor } from '../store/database.js';
import { handlesById } from '../store/queries/identities.js';
import { entitlements, policyState, roleAssignments, systems } from '../store/schema.js';
import type { ResolvedPolicy, RoleHolder } from './resolve.js';
import { flattenGenericSections } from './plan-flatten.js';

export interface FieldChange { field: string; from: string | null; to: string | null }
export interface ObjectChange { key: string; fields: FieldChange[] }
export interface Addition { key: string; detail: string }

export interface PolicyPlan {
  systems: { added: Addition[]; changed: ObjectChange[]; retired: string[] };
  entitlements: { added: Addition[]; changed: ObjectChange[]; retired: string[] };
  roles: { added: RoleHolder[]; removed: RoleHolder[] };
  /** Flattened settings, e.g. `durations.privileged.default`; `from` null = new, `to` null = removed. */
  settings: FieldChange[];
}

export interface PlanSummary {
  systemsAdded: number; systemsChanged: number; systemsRetired: number;
  entitlementsAdded: number; entitlementsChanged: number; entitlementsRetired: number;
  rolesAdded: number; rolesRemoved: number; settingsChanged: number; total: number;
}

/** The database state a plan is computed against. */
export interface PolicySnapshot {
  systems: (typeof systems.$inferSelect)[];
  entitlements: (typeof entitlements.$inferSelect)[];
  policyRoles: { identityId: string; role: string }[];
  applied: { document: AppliedPolicy; digest: string } | undefined;
  handles: Map<string, string>;
}

export const readSnapshot = async (exec: Executor): Promise<PolicySnapshot> => {
  const systemRows = await exec.select().from(systems).orderBy(systems.key);
  const entitlementRows = await exec.select().from(entitlements).orderBy(entitlements.key);
  const policyRoles = await exec.select({ identityId: roleAssignments.identityId, role: roleAssignments.role })
    .from(roleAssignments).where(eq(roleAssignments.source, 'policy'));
  const [state] = await exec.select().from(policyState).where(eq(policyState.id, 1));
  const applied = state ? { document: state.document as AppliedPolicy, digest: state.digest } : undefined;
  const ids = [
    ...systemRows.flatMap((s) => [s.businessOwnerId, s.technicalOwnerId]), ...policyRoles.map((r) => r.identityId),
    ...Object.values(applied?.document.approval.alternates ?? {}).flat(),
  ];
  return { systems: systemRows, entitlements: entitlementRows, policyRoles, applied, handles: await handlesById(exec, ids) };
};

const show = (value: string | number | boolean | null): string | null =>
  value === null ? null : typeof value === 'boolean' ? (value ? 'yes' : 'no') : String(value);

/** Field changes between two flat records of displayable values. */
const diffFields = (before: Record<string, string | null>, after: Record<string, string | null>): FieldChange[] =>
  Object.keys(after).filter((field) => before[field] !== after[field])
    .map((field) => ({ field, from: before[field] ?? null, to: after[field] ?? null }));

const duration = (ms: number | null): string | null => (ms === null ? null : formatDuration(ms));

const planCatalogue = (resolved: ResolvedPolicy, snapshot: PolicySnapshot, handle: (id: string) => string) => {
  const plan: Pick<PolicyPlan, 'systems' | 'entitlements'> = {
    systems: { added: [], changed: [], retired: [] }, entitlements: { added: [], changed: [], retired: [] },
  };
  const systemRows = new Map(snapshot.systems.map((row) => [row.key, row]));
  const entitlementRows = new Map(snapshot.entitlements.map((row) => [row.key, row]));
  const wanted = new Set<string>();
  for (const system of resolved.systems) {
    const fields = { name: system.name, criticality: system.criticality,
      business_owner: handle(system.businessOwnerId), technical_owner: handle(system.technicalOwnerId), retired: 'no' };
    const row = systemRows.get(system.key);
    if (!row) plan.systems.added.push({ key: system.key, detail: `${system.name}; ${system.criticality}; owners ${fields.business_owner}, ${fields.technical_owner}` });
    else {
      const changes = diffFields({ name: row.name, criticality: row.criticality, business_owner: handle(row.businessOwnerId),
        technical_owner: handle(row.technicalOwnerId), retired: show(row.retired) }, fields);
      if (changes.length > 0) plan.systems.changed.push({ key: system.key, fields: changes });
    }
    for (const e of system.entitlements) {
      wanted.add(e.key);
      const after = { name: e.name, tier: e.tier, max_duration: duration(e.maxDurationMs), shared_account: show(e.sharedAccount), retired: 'no' };
      const existing = entitlementRows.get(e.key);
      if (!existing) plan.entitlements.added.push({ key: e.key, detail: `${e.name}; ${e.tier}${e.maxDurationMs ? `, at most ${duration(e.maxDurationMs)}` : ''}${e.sharedAccount ? '; shared account' : ''}` });
      else {
        const changes = diffFields({ name: existing.name, tier: existing.tier, max_duration: duration(existing.maxDurationMs),
          shared_account: show(existing.sharedAccount), retired: show(existing.retired) }, after);
        if (changes.length > 0) plan.entitlements.changed.push({ key: e.key, fields: changes });
      }
    }
  }
  const inFile = new Set(resolved.systems.map((s) => s.key));
  plan.systems.retired = snapshot.systems.filter((row) => !row.retired && !inFile.has(row.key)).map((row) => row.key);
  plan.entitlements.retired = snapshot.entitlements.filter((row) => !row.retired && !wanted.has(row.key)).map((row) => row.key);
  return plan;
};

const planRoles = (resolved: ResolvedPolicy, snapshot: PolicySnapshot, handle: (id: string) => string): PolicyPlan['roles'] => {
  const id = (r: { role: string; identityId: string }) => `${r.role}\u0000${r.identityId}`;
  const current = new Set(snapshot.policyRoles.map(id));
  const wanted = new Set(resolved.roleHolders.map(id));
  return {
    added: resolved.roleHolders.filter((r) => !current.has(id(r))),
    removed: snapshot.policyRoles.filter((r) => !wanted.has(id(r)))
      .map((r) => ({ role: r.role as RoleHolder['role'], identityId: r.identityId, handle: handle(r.identityId) })),
  };
};

/** The applied document as flat, displayable settings, so two versions diff field by field. */
export const flattenSettings = (doc: AppliedPolicy | undefined, handle: (id: string) => string): Record<string, string | null> => {
  const flat: Record<string, string | null> = {};
  if (!doc) return flat;
  for (const tier of TIERS) {
    for (const kind of ['default', ...IDENTITY_KINDS] as const) {
      const limit = doc.durations[tier]?.[kind];
      if (limit !== undefined) flat[`durations.${tier}.${kind}`] = formatDuration(limit);
    }
  }
  flat['requests.pending_expires_after'] = formatDuration(doc.requests.pendingExpiresAfterMs);
  flat['approval.system_owner'] = doc.approval.systemOwner;
  const timing = approvalTimingOf(doc);
  flat['approval.remind_after'] = formatDuration(timing.remindAfterMs);
  flat['approval.escalate_after'] = formatDuration(timing.escalateAfterMs);
  for (const stage of STAGE_KINDS) {
    const people = (doc.approval.alternates[stage] ?? []).map(handle).sort();
    if (people.length > 0) flat[`approval.alternates.${stage}`] = people.join(', ');
  }
  const rules = doc.approval.rules ?? DEFAULT_APPROVER_RULES;
  for (const [key, name] of Object.entries(APPROVER_RULE_NAMES)) flat[`approval.rules.${name}`] = rules[key as keyof typeof rules] ? 'on' : 'off';
  for (const rule of doc.separationOfDuties) {
    flat[`separation_of_duties.${rule.name}`] = `${rule.entitlements.join(' + ')}${rule.reason ? ` (${rule.reason})` : ''}`;
  }
  for (const rule of doc.evidence ?? []) flat[`evidence.${rule.name}`] = describeEvidenceRule(rule);
  Object.assign(flat, flattenDecisionSettings(doc.decision), flattenGenericSections(doc, handle));
  return flat;
};

/** One evidence rule as a line: whom it is for, then what it asks. */
const describeEvidenceRule = (rule: EvidenceRule): string => {
  const list = (values: string[]) => (values.length === 0 ? 'any' : values.join('|'));
  const asks = [
    rule.ticketPattern !== null ? `ticket matching ${rule.ticketPattern}` : rule.ticketRequired ? 'a ticket' : '',
    rule.minJustification > 0 ? `a justification of ${rule.minJustification}+ characters` : '',
    rule.extraSecurityStage ? 'a security stage' : '', rule.singleStage ? 'one stage only' : '',
    rule.maxDurationMs !== null ? `at most ${formatDuration(rule.maxDurationMs)}` : '',
  ].filter(Boolean);
  return `tier ${list(rule.when.tiers)}, kind ${list(rule.when.kinds)}, pattern ${list(rule.when.patterns)}: ${asks.join(', ') || 'nothing'}`;
};

const planSettings = (resolved: ResolvedPolicy, snapshot: PolicySnapshot, handle: (id: string) => string): FieldChange[] => {
  const before = flattenSettings(snapshot.applied?.document, handle);
  const after = flattenSettings(resolved.document, handle);
  const removed = Object.keys(before).filter((field) => !(field in after)).map((field) => ({ field, from: before[field] ?? null, to: null }));
  return [...diffFields(before, after), ...removed];
};

export const computePlan = (resolved: ResolvedPolicy, snapshot: PolicySnapshot): PolicyPlan => {
  const handle = (id: string) => resolved.handles.get(id) ?? snapshot.handles.get(id) ?? id;
  return {
    ...planCatalogue(resolved, snapshot, handle),
    roles: planRoles(resolved, snapshot, handle),
    settings: planSettings(resolved, snapshot, handle),
  };
};

export const summarizePlan = (plan: PolicyPlan): PlanSummary => {
  const counts = {
    systemsAdded: plan.systems.added.length, systemsChanged: plan.systems.changed.length, systemsRetired: plan.systems.retired.length,
    entitlementsAdded: plan.entitlements.added.length, entitlementsChanged: plan.entitlements.changed.length,
    entitlementsRetired: plan.entitlements.retired.length, rolesAdded: plan.roles.added.length,
    rolesRemoved: plan.roles.removed.length, settingsChanged: plan.settings.length,
  };
  return { ...counts, total: Object.values(counts).reduce((a, b) => a + b, 0) };
};

export const isEmptyPlan = (plan: PolicyPlan): boolean => summarizePlan(plan).total === 0;

const fieldLines = (subject: string, change: ObjectChange): string[] =>
  change.fields.map((f) => `~ ${subject} ${change.key} ${f.field}: ${f.from ?? '(none)'} → ${f.to ?? '(none)'}`);

/** The plan as text, one change a line: `+` added, `~` changed, `-` retired or removed. */
export const renderPlan = (plan: PolicyPlan): string[] => [
  ...plan.systems.added.map((s) => `+ system ${s.key} (${s.detail})`),
  ...plan.systems.changed.flatMap((c) => fieldLines('system', c)),
  ...plan.systems.retired.map((key) => `- system ${key} (retired)`),
  ...plan.entitlements.added.map((e) => `+ entitlement ${e.key} (${e.detail})`),
  ...plan.entitlements.changed.flatMap((c) => fieldLines('entitlement', c)),
  ...plan.entitlements.retired.map((key) => `- entitlement ${key} (retired)`),
  ...plan.roles.added.map((r) => `+ role ${r.role}: ${r.handle}`),
  ...plan.roles.removed.map((r) => `- role ${r.role}: ${r.handle}`),
  ...plan.settings.map((s) => (s.from === null ? `+ setting ${s.field}: ${s.to}`
    : s.to === null ? `- setting ${s.field}: ${s.from}` : `~ setting ${s.field}: ${s.from} → ${s.to}`)),
];
