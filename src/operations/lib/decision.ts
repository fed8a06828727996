import { asc, eq } from 'drizzle-orm';
import { checkApprover, excludedFromRequest } from '../../domain/approval-rules.js';
import { TenureError } from '../../domain/errors.js';
import { loadAppliedPolicy } from '../../policy/applied.js';
import { findEntitlement } from '../../store/queries/catalogue.js';
import { findIdentityById } from '../../store/queries/identities.js';
import { accessRequests, requestStages } from '../../store/schema.js';
import { loadActor } from '../authorize.js';
import type { Work } from '../context.js';
import { stageCandidates } from './stage-candidates.js';

/**
 * Loads a pending request for a decision by the actor, with every approval rule checked against the
 * data as it is now (the actor may have left, the sponsor changed, a role been removed since routing).
 */
export const loadForDecision = async (work: Work, requestId: string, expectedStage?: number) => {
  const acting = await loadActor(work.tx, work.actor.id);
  // The row lock is the decision point: two approvers acting at once on the same request queue here,
  // and the second sees the first one's decision instead of deciding the same stage again.
  const [request] = await work.tx.select().from(accessRequests).where(eq(accessRequests.id, requestId)).for('update');
  if (!request) throw new TenureError('request.not_found', `no request '${requestId}'`, { field: 'request' });
  if (request.status !== 'pending') throw new TenureError('request.not_pending', `the request is ${request.status}`);
  if (request.expiresAt.getTime() <= work.now.getTime() || request.endsAt.getTime() <= work.now.getTime()) {
    throw new TenureError('request.not_pending', 'the request has expired');
  }
  const stages = await work.tx.select().from(requestStages).where(eq(requestStages.requestId, request.id))
    .orderBy(asc(requestStages.position));
  const current = stages.find((s) => s.status === 'pending');
  if (!current) throw new TenureError('request.not_pending', 'no stage is waiting for a decision');
  if (expectedStage !== undefined && expectedStage !== current.position) {
    throw new TenureError('request.not_pending', `stage ${expectedStage} is already decided; the request is at stage ${current.position}`, { field: 'stage' });
  }
  const beneficiary = await findIdentityById(work.tx, request.beneficiaryId);
  const { entitlement, system } = await findEntitlement(work.tx, request.entitlementId);
  const policy = await loadAppliedPolicy(work.tx);
  const fresh = await stageCandidates(work.tx, policy, current.kind as 'sponsor', beneficiary!, system);
  const exclude = excludedFromRequest(request.requesterId, request.beneficiaryId);
  const eligible = current.usesAlternates || exclude(fresh.primary).length === 0
    ? exclude([...fresh.primary, ...fresh.alternates]) : exclude(fresh.primary);
  checkApprover({
    actorId: acting.identity.id, requesterId: request.requesterId, beneficiaryId: request.beneficiaryId,
    earlierDeciders: stages.filter((s) => s.decidedBy !== null).map((s) => s.decidedBy!), eligible,
  });
  return { acting, request, stages, current, beneficiary: beneficiary!, entitlement, system, policy };
};

export type DecisionContext = Awaited<ReturnType<typeof loadForDecision>>;
