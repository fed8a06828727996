/**
 * One policy test case, run with the real use cases inside a savepoint that is always rolled back:
 * what the case does is what Tenure would do under the candidate policy, and nothing of it stays.
 */
import { withoutSodConflicts } from '../hr/birthright.js';
import type { DecisionContext } from '../../../domain/decision-conditions.js';
import { birthrightFor } from '../../../domain/hr.js';
import { TenureError } from '../../../domain/errors.js';
import type { AppliedPolicy } from '../../../domain/policy-types.js';
import type { PolicyTestCase } from '../../../policy/tests-file.js';
import { newId } from '../../../domain/ids.js';
import { activeEngagementOf, findEntitlement } from '../../../store/queries/catalogue.js';
import { findIdentity } from '../../../store/queries/identities.js';
import { grants } from '../../../store/schema.js';
import type { Tx } from '../../../store/database.js';
import type { Context } from '../../../work/context.js';
import { approveRequest } from '../../approve-request.js';
import { createRequest } from '../../create-request.js';

export interface CaseOutcome { route?: string[]; refused?: string; message?: string; entitlements?: string[]; decision?: string; reason?: string }
export interface CaseResult { name: string; ok: boolean; expected: Record<string, unknown>; actual: CaseOutcome }

/** The use cases run on `tx` as `handle`: a store whose database is the open transaction (nested calls become savepoints). */
const as = async (ctx: Context, tx: Tx, handle: string): Promise<Context> => ({
  // The use cases only open transactions on `db`; on a transaction that opens a savepoint.
  store: { ...ctx.store, db: tx as unknown as Context['store']['db'] }, clock: ctx.clock,
  actor: { id: (await findIdentity(tx, handle, 'as')).id, channel: 'cli', osUser: 'policy-test' },
});

const refusal = (error: unknown): CaseOutcome => {
  if (error instanceof TenureError) return { refused: error.code, message: error.message };
  throw error;
};

const runRequest = async (ctx: Context, tx: Tx, c: PolicyTestCase): Promise<CaseOutcome> => {
  const r = c.request!;
  let created;
  try {
    created = await createRequest(await as(ctx, tx, r.as ?? r.beneficiary), {
      beneficiary: r.beneficiary, entitlement: r.entitlement, duration: r.duration, justification: r.justification, ticket: r.ticket,
    });
  } catch (error) { return refusal(error); }
  const route = created.stages.map((s) => s.kind);
  if (!c.approve) return { route };
  const target = route.indexOf(c.approve.stage);
  if (target < 0) return { route, refused: 'policy_test.no_such_stage', message: `the request has no ${c.approve.stage} stage` };
  const actor = await as(ctx, tx, c.approve.as);
  // Earlier stages go to their first eligible approver who is not the one under test.
  for (const stage of created.stages.slice(0, target)) {
    const approver = stage.approverIds.find((id) => id !== actor.actor.id);
    if (!approver) return { route, refused: 'policy_test.no_other_approver', message: `nobody else may decide the ${stage.kind} stage` };
    try {
      await approveRequest({ ...actor, actor: { ...actor.actor, id: approver } }, { request: created.id });
    } catch (error) { return { route, ...refusal(error) }; }
  }
  try {
    await approveRequest(actor, { request: created.id });
    return { route };
  } catch (error) { return { route, ...refusal(error) }; }
};

const runBirthright = (policy: AppliedPolicy, c: PolicyTestCase): CaseOutcome => {
  const b = c.birthright!;
  const attributes = { department: b.department, title: b.title, location: b.location, employment_class: b.employment_class };
  return { entitlements: withoutSodConflicts(policy.separationOfDuties, birthrightFor(policy.accessProfiles ?? [], attributes), []).granted.sort() };
};

/**
 * How a check case asks the decision point: given by the caller (cli, http), since the decision point
 * sits outside the use cases; it must read the index from `tx`, where the candidate policy is applied.
 */
export type DecisionChecker = (tx: Tx, query: { identity: string; entitlement: string; context?: DecisionContext | undefined }, now: Date) =>
  Promise<{ decision: string; reason: string }>;

/** What the decision point would answer, inside the savepoint (with the grant given first when the case says so). */
const runCheck = async (ctx: Context, tx: Tx, c: PolicyTestCase, checker: DecisionChecker | undefined): Promise<CaseOutcome> => {
  const q = c.check!;
  if (!checker) return { refused: 'policy_test.check_unavailable', message: 'this caller cannot ask the decision point' };
  const now = q.at ? new Date(q.at) : ctx.clock.now();
  if (q.holds) {
    const who = await findIdentity(tx, q.identity, 'identity');
    const { entitlement } = await findEntitlement(tx, q.entitlement);
    const engagement = await activeEngagementOf(tx, who.id, now);
    // A stand-in grant, gone with the savepoint: its origin does not matter to the decision point, and one without a request must not say 'request'.
    await tx.insert(grants).values({ id: newId(), identityId: who.id, entitlementId: entitlement.id, engagementId: engagement?.id ?? null,
      requestId: null, origin: 'birthright', startsAt: new Date(now.getTime() - 60_000), endsAt: new Date(now.getTime() + 3_600_000),
      status: 'active', provisioningState: 'provisioned', createdAt: now });
  }
  return checker(tx, { identity: q.identity, entitlement: q.entitlement, context: q.context }, now);
};

const sameSet = (a: readonly string[], b: readonly string[]) => JSON.stringify([...a].sort()) === JSON.stringify([...b].sort());

/** Compares what happened with what the case expects; every expectation given must hold. */
const judge = (c: PolicyTestCase, actual: CaseOutcome): boolean => {
  const e = c.expect;
  if (e.route && JSON.stringify(e.route) !== JSON.stringify(actual.route ?? null)) return false;
  if (e.refused && e.refused !== actual.refused) return false;
  if (e.allowed && actual.refused !== undefined) return false;
  if (e.entitlements && !sameSet(e.entitlements, actual.entitlements ?? [])) return false;
  if (e.decision && e.decision !== actual.decision) return false;
  if (e.reason && e.reason !== actual.reason) return false;
  // A case that expects a route or entitlements and nothing about refusal must not have been refused.
  return e.refused !== undefined || actual.refused === undefined;
};

export const runCase = async (
  ctx: Context, tx: Tx, policy: AppliedPolicy, c: PolicyTestCase, checker?: DecisionChecker,
): Promise<CaseResult> => {
  const actual = c.birthright ? runBirthright(policy, c) : c.check ? await runCheck(ctx, tx, c, checker) : await runRequest(ctx, tx, c);
  const expected = Object.fromEntries(Object.entries(c.expect).filter(([, v]) => v !== undefined));
  return { name: c.name, ok: judge(c, actual), expected, actual };
};
