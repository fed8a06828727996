import { and, eq } from 'drizzle-orm';
import { z } from 'zod';
import { excludedFromRequest } from '../domain/approval-rules.js';
import { maxDurationMs } from '../domain/durations.js';
import { inEngagementScope } from '../domain/engagement-scope.js';
import { TenureError } from '../domain/errors.js';
import { checkEvidence, checkEvidenceDuration, evidenceRulesFor, stagesWithEvidence } from '../domain/evidence.js';
import { newId } from '../domain/ids.js';
import { REQUEST_KINDS } from '../domain/model.js';
import { partiesOfRequest } from '../domain/parties.js';
import { routeStages, stagesFor } from '../domain/routing.js';
import { findSodConflict } from '../domain/separation-of-duties.js';
import { checkMaxDuration, resolveWindow, type Window } from '../domain/window.js';
import { loadAppliedPolicy } from '../policy/applied.js';
import { findEntitlement, liveEntitlementKeys } from '../store/queries/catalogue.js';
import { findIdentity, lockIdentity } from '../store/queries/identities.js';
import { accessRequests, grants, requestStages } from '../store/schema.js';
import { loadActor } from './authorize.js';
import { inTransaction, type Context, type Work } from '../work/context.js';
import { duration, entitlementRef, instant, parseInput, ref, text } from './input.js';
import {
  checkBeneficiaryStanding, checkEngagement, checkMayRequestFor, checkNotDuplicate,
} from './lib/approval/request-guards.js';
import { ApprovalReads } from './lib/approval/approval-reads.js';
import { stageCandidates } from './lib/approval/stage-candidates.js';

export const Input = z.object({
  kind: z.enum(REQUEST_KINDS).default('new'),
  beneficiary: ref.optional(),
  entitlement: entitlementRef.optional(),
  targetGrant: z.uuid('must be a grant id').optional(),
  justification: text(2000),
  ticket: text(200).optional(),
  startsAt: instant.optional(),
  endsAt: instant.optional(),
  duration: duration.optional(),
}).strict();
export type CreateRequestInput = z.input<typeof Input>;
type Data = z.infer<typeof Input>;

/** An extension or scope change acts on a live grant of the same beneficiary. */
const loadTargetGrant = async (work: Work, data: Data, beneficiaryId: string) => {
  if (data.kind === 'new') return undefined;
  if (!data.targetGrant) throw new TenureError('input.invalid', `targetGrant: required for a ${data.kind}`, { field: 'targetGrant' });
  const [grant] = await work.tx.select().from(grants).where(eq(grants.id, data.targetGrant));
  if (!grant || grant.identityId !== beneficiaryId || !['scheduled', 'active'].includes(grant.status)) {
    throw new TenureError('request.invalid_target_grant', 'targetGrant: must be a live grant of the beneficiary', { field: 'targetGrant' });
  }
  return grant;
};

const windowFor = (data: Data, target: typeof grants.$inferSelect | undefined, now: Date): Window => {
  if (data.kind !== 'extension' || !target) return resolveWindow(data.duration === undefined ? { startsAt: data.startsAt, endsAt: data.endsAt } : { startsAt: data.startsAt, durationMs: data.duration }, now);
  const currentEnd = target.endsAt ?? now;
  const endsAt = data.endsAt ?? (data.duration ? new Date(currentEnd.getTime() + data.duration) : undefined);
  if (!endsAt || endsAt.getTime() <= currentEnd.getTime()) {
    throw new TenureError('request.invalid_window', 'endsAt: an extension must move the end later', { field: 'endsAt' });
  }
  return { startsAt: target.startsAt, endsAt };
};

const resolveEntitlement = async (work: Work, data: Data, target: typeof grants.$inferSelect | undefined) => {
  const ref = data.kind === 'extension' ? target!.entitlementId : data.entitlement;
  if (!ref) throw new TenureError('input.invalid', 'entitlement: required', { field: 'entitlement' });
  const found = await findEntitlement(work.tx, ref);
  if (found.entitlement.retired || found.system.retired) {
    throw new TenureError('entitlement.retired', `${found.entitlement.key} is retired`, { field: 'entitlement' });
  }
  if (data.kind === 'scope_change') {
    const current = await findEntitlement(work.tx, target!.entitlementId);
    if (current.system.id !== found.system.id || current.entitlement.id === found.entitlement.id) {
      throw new TenureError('request.invalid_target_grant', 'entitlement: a scope change moves to another entitlement of the same system', { field: 'entitlement' });
    }
  }
  return found;
};

/** Files an access request after every rule that can be checked before approval; routes it to its stages. */
export const createRequest = async (ctx: Context, input: CreateRequestInput) => {
  const data = parseInput(Input, input);
  return inTransaction(ctx, async (work) => {
    const acting = await loadActor(work.tx, work.actor.id);
    const found = await findIdentity(work.tx, data.beneficiary ?? acting.identity.id, 'beneficiary');
    // Lock the beneficiary so two requests for one person cannot both pass the duplicate and SoD checks.
    const beneficiary = await lockIdentity(work.tx, found.id);
    checkMayRequestFor(acting, beneficiary);
    await checkBeneficiaryStanding(work.tx, beneficiary);
    const policy = await loadAppliedPolicy(work.tx);
    const target = await loadTargetGrant(work, data, beneficiary.id);
    const { entitlement, system } = await resolveEntitlement(work, data, target);
    const window = windowFor(data, target, work.now);
    checkMaxDuration(window, work.now, maxDurationMs(policy, entitlement.tier, beneficiary.kind, entitlement.maxDurationMs),
      `${entitlement.tier} access for a ${beneficiary.kind}`);
    const engagement = await checkEngagement(work.tx, beneficiary, window.endsAt, work.now);
    const outOfScope = engagement !== undefined && !inEngagementScope(engagement.scope, system.key, entitlement.key);
    const evidence = evidenceRulesFor(policy.evidence ?? [], { tier: entitlement.tier, kind: beneficiary.kind, pattern: engagement?.pattern ?? null });
    checkEvidence(evidence, data);
    checkEvidenceDuration(evidence, window, work.now);
    if (data.kind !== 'extension') {
      await checkNotDuplicate(work.tx, beneficiary.id, entitlement.id);
      const held = (await liveEntitlementKeys(work.tx, beneficiary.id));
      const conflict = findSodConflict(policy.separationOfDuties, entitlement.key, held);
      if (conflict) {
        throw new TenureError('request.sod_conflict', `${entitlement.key} may not be held with ${conflict.conflictsWith} (${conflict.rule.name})`, { field: 'entitlement' });
      }
    } else {
      const [pending] = await work.tx.select({ id: accessRequests.id }).from(accessRequests)
        .where(and(eq(accessRequests.targetGrantId, target!.id), eq(accessRequests.status, 'pending')));
      if (pending) throw new TenureError('request.duplicate', `an extension of this grant is already pending (${pending.id})`, { field: 'targetGrant' });
    }
    const candidates = [];
    // One at a time: a transaction is one connection, and queries on it cannot overlap.
    const route = stagesWithEvidence(stagesFor(entitlement.tier, outOfScope), evidence, { tier: entitlement.tier, outOfScope });
    const reads = new ApprovalReads(work.tx);
    for (const kind of route) candidates.push(await stageCandidates(reads, policy, kind, beneficiary, system, entitlement.key));
    // Whoever minted the credential the requester files with is a party too (and is kept with the request).
    const issuer = work.actor.issuedBy && work.actor.issuedBy !== acting.identity.id ? work.actor.issuedBy : null;
    const parties = partiesOfRequest({ requester: acting.identity, beneficiary, requesterIssuerId: issuer });
    const routed = routeStages(candidates, excludedFromRequest(acting.identity.id, beneficiary.id, parties));
    if (!routed) {
      throw new TenureError('request.no_eligible_approver', 'no distinct eligible approver for every stage of this request (configure alternates in the policy)');
    }
    const id = newId();
    const row = {
      id, kind: data.kind, requesterId: acting.identity.id, beneficiaryId: beneficiary.id, entitlementId: entitlement.id,
      engagementId: engagement?.id ?? null, targetGrantId: target?.id ?? null, justification: data.justification,
      ticket: data.ticket ?? null, startsAt: window.startsAt, endsAt: window.endsAt, outOfScope, status: 'pending',
      // A length of time with no start: the clock starts at the final approval (windowAtApproval).
      durationMs: data.kind !== 'extension' && data.duration !== undefined && data.startsAt === undefined ? data.duration : null,
      expiresAt: new Date(work.now.getTime() + policy.requests.pendingExpiresAfterMs), requesterIssuerId: issuer, createdAt: work.now,
    } satisfies typeof accessRequests.$inferInsert;
    await work.tx.insert(accessRequests).values(row);
    await work.tx.insert(requestStages).values(routed.map((stage, position) => ({
      requestId: id, position, kind: stage.kind, approverIds: stage.approverIds, usesAlternates: stage.usesAlternates, status: 'pending',
    }) satisfies typeof requestStages.$inferInsert));
    work.record({ action: 'request.created', subject: { type: 'request', id }, identityId: beneficiary.id, systemId: system.id,
      ticket: row.ticket, reason: row.justification,
      after: { kind: row.kind, entitlement: entitlement.key, startsAt: row.startsAt, endsAt: row.endsAt, outOfScope, evidenceRules: evidence.map((r) => r.name),
        targetGrantId: row.targetGrantId, stages: routed.map((s) => ({ kind: s.kind, approverIds: s.approverIds })) } });
    return { ...row, entitlementKey: entitlement.key, stages: routed };
  });
};
