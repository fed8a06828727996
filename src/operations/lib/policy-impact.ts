/**
 * What applying a candidate policy would do to what exists now: live grants longer than the new
 * maximum, people who would newly hold both sides of a separation-of-duties rule, people who would
 * gain or lose birthright access, pending requests whose approvers would change. Computed by applying
 * the candidate inside the caller's transaction, which the caller always rolls back.
 */
import { and, eq, inArray, isNotNull, sql } from 'drizzle-orm';
import { maxDurationMs } from '../../domain/durations.js';
import { birthrightFor } from '../../domain/hr.js';
import type { AppliedPolicy } from '../../domain/policy-types.js';
import { conflictsHeld } from '../../domain/separation-of-duties.js';
import { applyResolvedPolicy } from '../../policy/apply.js';
import { findAppliedPolicy } from '../../policy/applied.js';
import type { ResolvedPolicy } from '../../policy/resolve.js';
import { grantsHeldTogether } from '../../store/queries/catalogue.js';
import { accessRequests, entitlements, grants, identities, requestStages } from '../../store/schema.js';
import type { Work } from '../../work/context.js';
import { reroutePendingRequests } from './approval/reroute-requests.js';

export interface PolicyImpact {
  grantsOutlasting: { grantId: string; identity: string; entitlement: string; endsAt: Date | null; newMaximum: number }[];
  newSodConflicts: { identity: string; rule: string }[];
  birthrightGained: { identity: string; entitlement: string }[];
  birthrightLost: { identity: string; entitlement: string }[];
  requestsRerouted: { requestId: string; stage: string; from: string[]; to: string[] }[];
}

/** What each person who could break a rule of either policy holds of the rules' entitlements. */
const heldByPerson = async (work: Work, policies: readonly (AppliedPolicy | undefined)[]) => {
  const keys = new Set(policies.flatMap((policy) => (policy?.separationOfDuties ?? []).flatMap((rule) => rule.entitlements)));
  const byPerson = new Map<string, string[]>();
  for (const g of await grantsHeldTogether(work.tx, [...keys])) {
    const held = byPerson.get(g.handle);
    if (held) held.push(g.key); else byPerson.set(g.handle, [g.key]);
  }
  return byPerson;
};

const conflicts = (policy: AppliedPolicy | undefined, held: Map<string, string[]>) =>
  new Set([...held].flatMap(([handle, keys]) => conflictsHeld(policy?.separationOfDuties ?? [], keys).map((rule) => `${handle}\u0000${rule.name}`)));

const birthright = async (work: Work, policy: AppliedPolicy | undefined) => {
  const people = await work.tx.select({ handle: identities.handle, department: identities.department, title: identities.title,
    location: identities.location, employment_class: identities.employmentClass }).from(identities)
    .where(and(eq(identities.status, 'active'), isNotNull(identities.department)));
  return new Set(people.flatMap(({ handle, ...attributes }) => birthrightFor(policy?.accessProfiles ?? [],
    { department: attributes.department ?? undefined, title: attributes.title ?? undefined, location: attributes.location ?? undefined,
      employment_class: attributes.employment_class ?? undefined }).map((key) => `${handle}\u0000${key}`)));
};

const pendingApprovers = async (work: Work) => {
  const rows = await work.tx.select({ requestId: requestStages.requestId, kind: requestStages.kind, approverIds: requestStages.approverIds })
    .from(requestStages).innerJoin(accessRequests, eq(accessRequests.id, requestStages.requestId))
    .where(and(eq(accessRequests.status, 'pending'), eq(requestStages.status, 'pending')));
  return new Map(rows.map((r) => [`${r.requestId}\u0000${r.kind}`, r.approverIds]));
};

const outlasting = async (work: Work, policy: AppliedPolicy): Promise<PolicyImpact['grantsOutlasting']> => {
  const live = await work.tx.select({ grantId: grants.id, identity: identities.handle, kind: identities.kind, entitlement: entitlements.key,
    tier: entitlements.tier, entitlementMax: entitlements.maxDurationMs, startsAt: grants.startsAt, endsAt: grants.endsAt }).from(grants)
    .innerJoin(entitlements, eq(entitlements.id, grants.entitlementId)).innerJoin(identities, eq(identities.id, grants.identityId))
    .where(and(inArray(grants.status, ['scheduled', 'active']), eq(grants.origin, 'request')));
  return live.flatMap((g) => {
    const newMaximum = maxDurationMs(policy, g.tier, g.kind, g.entitlementMax);
    const begins = Math.max(g.startsAt.getTime(), work.now.getTime());
    return g.endsAt === null || g.endsAt.getTime() - begins > newMaximum
      ? [{ grantId: g.grantId, identity: g.identity, entitlement: g.entitlement, endsAt: g.endsAt, newMaximum }] : [];
  });
};

const split = (keys: Iterable<string>) => [...keys].sort().map((k) => k.split('\u0000') as [string, string]);

/** Applies the candidate in `work`'s transaction (the caller rolls it back) and says what would change. */
export const policyImpact = async (work: Work, resolved: ResolvedPolicy): Promise<PolicyImpact> => {
  const policy = await findAppliedPolicy(work.tx);
  const before = { policy, held: await heldByPerson(work, [policy, resolved.document]), approvers: await pendingApprovers(work) };
  const oldConflicts = conflicts(before.policy, before.held);
  const oldBirthright = await birthright(work, before.policy);
  await applyResolvedPolicy(work, resolved);
  await reroutePendingRequests(work, sql`true`, 'impact of a candidate policy');
  const after = resolved.document;
  const newBirthright = await birthright(work, after);
  const approvers = await pendingApprovers(work);
  const handles = new Map((await work.tx.select({ id: identities.id, handle: identities.handle }).from(identities)).map((r) => [r.id, r.handle]));
  const named = (ids: string[]) => ids.map((id) => handles.get(id) ?? id).sort();
  return {
    grantsOutlasting: await outlasting(work, after),
    newSodConflicts: split([...conflicts(after, before.held)].filter((c) => !oldConflicts.has(c))).map(([identity, rule]) => ({ identity, rule })),
    birthrightGained: split([...newBirthright].filter((b) => !oldBirthright.has(b))).map(([identity, entitlement]) => ({ identity, entitlement })),
    birthrightLost: split([...oldBirthright].filter((b) => !newBirthright.has(b))).map(([identity, entitlement]) => ({ identity, entitlement })),
    requestsRerouted: [...approvers].flatMap(([key, to]) => {
      const from = before.approvers.get(key) ?? [];
      const [requestId, stage] = key.split('\u0000') as [string, string];
      return JSON.stringify(named(from)) === JSON.stringify(named(to)) ? [] : [{ requestId, stage, from: named(from), to: named(to) }];
    }),
  };
};
