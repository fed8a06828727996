/**
 * Birthright access: what a person's HR attributes give them through the policy's access profiles,
 * without a request. Only read and standard entitlements (policy validation refuses privileged or
 * break-glass ones, and this checks again); a non-employee's birthright lives inside an active
 * engagement's scope and ends with it.
 */
import { and, eq, inArray } from 'drizzle-orm';
import { birthrightFor, type AccessProfile, type HrAttributes } from '../../../domain/hr.js';
import { newId } from '../../../domain/ids.js';
import { isNonEmployee, type IdentityKind } from '../../../domain/model.js';
import { findSodConflict, type SodRule } from '../../../domain/separation-of-duties.js';
import type { Executor } from '../../../store/database.js';
import { activeEngagementOf } from '../../../store/queries/catalogue.js';
import { entitlements, grants, systems } from '../../../store/schema.js';
import type { Work } from '../../../work/context.js';
import { revokeLiveGrants } from '../ending/end-access.js';
import { openFinding } from '../provisioning/findings.js';

export interface CatalogueEntry { id: string; key: string; tier: string; systemId: string; systemKey: string }

/** The live, non-privileged catalogue by key: birthright never reaches further than this. */
export const birthrightCatalogue = async (exec: Executor): Promise<Map<string, CatalogueEntry>> => {
  const rows = await exec.select({ id: entitlements.id, key: entitlements.key, tier: entitlements.tier, systemId: entitlements.systemId,
    systemKey: systems.key, retired: entitlements.retired, systemRetired: systems.retired })
    .from(entitlements).innerJoin(systems, eq(systems.id, entitlements.systemId));
  return new Map(rows.filter((r) => !r.retired && !r.systemRetired && r.tier !== 'privileged').map((r) => [r.key, r]));
};

export interface BirthrightPerson { id: string; kind: IdentityKind; attributes: HrAttributes }
/** `refused`: what the profiles give but separation of duties forbids next to what the person holds. */
export interface BirthrightChange { granted: string[]; revoked: string[]; refused: string[]; matched: boolean }

/**
 * Birthright is no way around separation of duties: a key that conflicts with what is held (or with
 * a key granted before it in the list) is left out. The caller holds the person's identity lock, so
 * a concurrent approval cannot slip the other side in between.
 */
export const withoutSodConflicts = (rules: readonly SodRule[], wanted: readonly string[], held: readonly string[]) => {
  const granted: string[] = [];
  const refused: string[] = [];
  for (const key of wanted) (findSodConflict(rules, key, [...held, ...granted]) ? refused : granted).push(key);
  return { granted, refused };
};

/**
 * Profiles that together would give every side of a rule are a policy mistake IAM must see: the
 * withheld entitlement is a finding (no owner: IAM's), one per person and entitlement.
 */
export const flagWithheld = async (work: Work, person: { id: string; handle: string }, withheld: readonly string[], rules: readonly SodRule[]) => {
  for (const key of withheld) {
    const rule = rules.find((r) => r.entitlements.includes(key));
    await openFinding(work, { kind: 'birthright_withheld', key: `birthright_withheld:${person.id}:${key}`, identityId: person.id,
      summary: `${person.handle}'s access profiles also give ${key}, which ${rule?.name ?? 'a separation-of-duties rule'} keeps apart from ` +
        'what they hold or were given: it was withheld; fix the profiles, or grant it by request if a conflict is meant',
      evidence: { entitlement: key, rule: rule?.name ?? null } });
  }
};

/** What the person should hold by birthright now, with its end: open for employees, the engagement's end otherwise. */
const desiredFor = async (work: Work, person: BirthrightPerson, profiles: readonly AccessProfile[], catalogue: Map<string, CatalogueEntry>) => {
  const keys = birthrightFor(profiles, person.attributes).filter((key) => catalogue.has(key));
  if (!isNonEmployee(person.kind) || keys.length === 0) return { keys, endsAt: null, engagementId: null };
  const engagement = await activeEngagementOf(work.tx, person.id, work.now);
  if (!engagement) return { keys: [], endsAt: null, engagementId: null };
  const inScope = keys.filter((key) => engagement.scope.some((s) => s === key || s === key.split('/')[0]));
  return { keys: inScope, endsAt: engagement.endsAt, engagementId: engagement.id };
};

/**
 * Brings the person's birthright grants in line with their attributes: grants the profiles no longer
 * give are revoked (a mover loses them), new ones are issued. Access held through a request is left
 * alone (a mover's review looks at it), and never duplicated by birthright. The caller holds the
 * person's identity lock (the lock order beside inTransaction).
 */
export const syncBirthright = async (
  work: Work, person: BirthrightPerson, profiles: readonly AccessProfile[], catalogue: Map<string, CatalogueEntry>, why: string,
  rules: readonly SodRule[],
): Promise<BirthrightChange> => {
  const desired = await desiredFor(work, person, profiles, catalogue);
  const live = await work.tx.select({ id: grants.id, origin: grants.origin, key: entitlements.key }).from(grants)
    .innerJoin(entitlements, eq(entitlements.id, grants.entitlementId))
    .where(and(eq(grants.identityId, person.id), inArray(grants.status, ['scheduled', 'active'])));
  const stale = live.filter((g) => g.origin === 'birthright' && !desired.keys.includes(g.key));
  if (stale.length > 0) {
    await revokeLiveGrants(work, inArray(grants.id, stale.map((g) => g.id)), `birthright no longer matches: ${why}`);
  }
  const held = new Set(live.map((g) => g.key));
  const { granted: missing, refused } = withoutSodConflicts(rules, desired.keys.filter((key) => !held.has(key)),
    live.filter((g) => !stale.includes(g)).map((g) => g.key));
  if (missing.length > 0) {
    const rows = missing.map((key) => ({
      id: newId(), identityId: person.id, entitlementId: catalogue.get(key)!.id, engagementId: desired.engagementId, requestId: null,
      origin: 'birthright', startsAt: work.now, endsAt: desired.endsAt, status: 'active', provisioningState: 'pending', createdAt: work.now,
    }) satisfies typeof grants.$inferInsert);
    await work.tx.insert(grants).values(rows);
    rows.forEach((row, i) => work.record({ action: 'grant.created', subject: { type: 'grant', id: row.id }, identityId: person.id,
      systemId: catalogue.get(missing[i]!)!.systemId, reason: `birthright: ${why}`,
      after: { status: 'active', origin: 'birthright', entitlement: missing[i], startsAt: work.now, endsAt: row.endsAt } }));
  }
  return { granted: missing, revoked: stale.map((g) => g.key), refused, matched: birthrightFor(profiles, person.attributes).length > 0 };
};

export interface ProfiledPerson { id: string; handle: string; managerId: string | null; department: string | null; title: string | null;
  location: string | null; employmentClass: string | null }

/** Attributes that match no profile give no birthright: the manager (or IAM) is asked to look, once per person. */
export const flagUnmatched = (work: Work, person: ProfiledPerson) => openFinding(work, {
  kind: 'hr_attributes_unmatched', key: `hr_attributes_unmatched:${person.id}`, identityId: person.id, ownerId: person.managerId,
  summary: `${person.handle}'s HR attributes (${person.department ?? '-'} / ${person.title ?? '-'}) match no access profile`,
  evidence: { department: person.department, title: person.title, location: person.location, employmentClass: person.employmentClass },
});
