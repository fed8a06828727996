import { and, asc, eq, getTableColumns, gte, inArray, sql } from 'drizzle-orm';
import { checkApprover, excludedFromRequest } from '../../../domain/approval-rules.js';
import { brokenApproverRule, DEFAULT_APPROVER_RULES } from '../../../domain/approver-rules.js';
import type { StageKind } from '../../../domain/model.js';
import { hasDistinctApprovers } from '../../../domain/routing.js';
import { TenureError } from '../../../domain/errors.js';
import { appliedRevision, loadAppliedPolicyAt } from '../../../policy/applied.js';
import { findEntitlement } from '../../../store/queries/catalogue.js';
import { accessRequests, engagements, identities, requestStages } from '../../../store/schema.js';
import { loadActor, requirePerson, requireVisible } from '../../authorize.js';
import type { Work } from '../../../work/context.js';
import { ApprovalReads } from './approval-reads.js';
import { partiesOfStoredRequest } from './parties.js';
import { approvalSubject, eligibleForStage, namedForStages } from './stage-candidates.js';

const requestNotFound = (requestId: string) => new TenureError('request.not_found', `no request '${requestId}'`, { field: 'request' });

const activeEngagementsLocked = (identityId: string) => sql`(select count(*) from (select 1 from ${engagements}
  where ${engagements.identityId} = ${identityId} and ${engagements.status} = 'active' for share) as held)`;

/**
 * Takes the decision's locks in the lock order (see `inTransaction`): the beneficiary first, then
 * their live engagements, then the request. Locking the beneficiary serialises every grant issued
 * to one person, as request creation does: two final approvals of requests that together break a
 * separation-of-duties rule queue here, and the second one's check sees the first one's grant.
 * Locking the request makes it the decision point: two approvers acting on it at once queue, and
 * the second sees the first one's decision instead of deciding the same stage again. The
 * beneficiary is found through the request in the statement that locks them (only their row is
 * locked): it never changes. Two statements, not four: each is a round trip (issue 20).
 */
export const lockRequestAndBeneficiary = async (work: Work, requestId: string) => {
  const [beneficiary] = await work.tx.select().from(identities)
    .where(inArray(identities.id, work.tx.select({ id: accessRequests.beneficiaryId }).from(accessRequests).where(eq(accessRequests.id, requestId))))
    .for('update', { of: identities });
  if (!beneficiary) throw requestNotFound(requestId);
  // The grant's INSERT key-shares the engagement: held now, before the request, it cannot be
  // taken out of order by an engagement ending or a renewal under way. The engagements are locked
  // in the request's statement, by a sub-select its filter depends on: the server evaluates that
  // (once, as an init plan) before it returns, and so locks, the request row.
  const [request] = await work.tx.select({ ...getTableColumns(accessRequests), policyRevision: appliedRevision }).from(accessRequests)
    .where(and(eq(accessRequests.id, requestId), gte(activeEngagementsLocked(beneficiary.id), 0)))
    .for('update', { of: accessRequests });
  if (!request) throw requestNotFound(requestId);
  const { policyRevision, ...row } = request;
  return { ...row, beneficiary, policyRevision };
};

/**
 * Loads a pending request for a decision by the actor, with every approval rule checked against the
 * data as it is now (the actor may have left, the sponsor changed, a role been removed since routing).
 */
export const loadForDecision = async (work: Work, requestId: string, expectedStage?: number) => {
  const acting = await loadActor(work.tx, work.actor.id);
  requirePerson(acting, 'decide a request');
  const { policyRevision, ...request } = await lockRequestAndBeneficiary(work, requestId);
  const stages = await work.tx.select().from(requestStages).where(eq(requestStages.requestId, request.id))
    .orderBy(asc(requestStages.position));
  // Someone with no part in the request and no right to read all requests is told it does not
  // exist, exactly as for an unknown id, so request ids cannot be probed through the approval path.
  const involved = [request.requesterId, request.beneficiaryId, ...stages.flatMap((s) => s.approverIds)].includes(acting.identity.id);
  requireVisible(acting, involved, 'request.read_all', () => requestNotFound(requestId));
  if (request.status !== 'pending') throw new TenureError('request.not_pending', `the request is ${request.status}`);
  // A request for a length of time waits until it expires; one for an explicit window, until that window is over too.
  if (request.expiresAt.getTime() <= work.now.getTime() || (request.durationMs === null && request.endsAt.getTime() <= work.now.getTime())) {
    throw new TenureError('request.not_pending', 'the request has expired');
  }
  const current = stages.find((s) => s.status === 'pending');
  if (!current) throw new TenureError('request.not_pending', 'no stage is waiting for a decision');
  if (expectedStage !== undefined && expectedStage !== current.position) {
    throw new TenureError('request.not_pending', `stage ${expectedStage} is already decided; the request is at stage ${current.position}`, { field: 'stage' });
  }
  const { entitlement, system } = await findEntitlement(work.tx, request.entitlementId);
  const policy = await loadAppliedPolicyAt(work.tx, policyRevision);
  const parties = await partiesOfStoredRequest(work.tx, request);
  const exclude = excludedFromRequest(request.requesterId, request.beneficiaryId, parties);
  const reads = new ApprovalReads(work.tx);
  await reads.prefetch([acting.identity.id, ...namedForStages(policy, stages.filter((s) => s.position >= current.position).map((s) => s.kind as StageKind),
    request.beneficiary, system)], [request.beneficiary.id]);
  const eligibleFor = (stage: typeof current) => eligibleForStage(reads, policy, stage, request.beneficiary, system, entitlement.key, exclude);
  const earlierDeciders = stages.filter((s) => s.decidedBy !== null).map((s) => s.decidedBy!);
  // The actor is held to the approver rules by name, so a refusal says which rule, not only "not an approver".
  const [actorFacts] = await reads.factsOf([acting.identity.id]);
  const subject = await approvalSubject(reads, policy, current.kind as StageKind, request.beneficiary, entitlement.key);
  checkApprover({
    actorId: acting.identity.id, issuedBy: work.actor.issuedBy, requesterId: request.requesterId, beneficiaryId: request.beneficiaryId,
    parties, earlierDeciders, eligible: await eligibleFor(current),
    ruleBroken: actorFacts && brokenApproverRule(policy.approval.rules ?? DEFAULT_APPROVER_RULES, subject, actorFacts),
  });
  // Deciding this stage must not leave a later stage with nobody distinct to decide it: a sponsor
  // who is also the only system owner leaves the sponsor stage to an alternate instead.
  const later = stages.filter((s) => s.position > current.position);
  const taken = new Set([...earlierDeciders, acting.identity.id]);
  const laterSets: string[][] = [];
  for (const stage of later) laterSets.push((await eligibleFor(stage)).filter((id) => !taken.has(id)));
  if (!hasDistinctApprovers(laterSets)) {
    throw new TenureError('request.approver_needed_later',
      `you are needed to decide a later stage (${later.map((s) => s.kind).join(', ')}); leave stage ${current.kind} to another eligible approver`);
  }
  const { beneficiary, ...row } = request;
  return { acting, request: row, stages, current, beneficiary, entitlement, system, policy };
};

export type PendingDecision = Awaited<ReturnType<typeof loadForDecision>>;
