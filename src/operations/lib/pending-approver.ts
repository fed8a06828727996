import { and, asc, eq } from 'drizzle-orm';
import type { Executor } from '../../store/database.js';
import { accessRequests, requestStages } from '../../store/schema.js';

/**
 * Whether `personId` is asked to decide a request for `beneficiaryId` now: an approver of the first
 * pending stage of one of the beneficiary's pending requests. Such a person may read the beneficiary's
 * current grants and engagement, which they need to decide, and only while the request waits for them:
 * once they have decided, or the request has moved on, the view closes again.
 */
export const approvesPendingFor = async (exec: Executor, beneficiaryId: string, personId: string): Promise<boolean> => {
  const stages = await exec.select({
    requestId: requestStages.requestId, status: requestStages.status, approverIds: requestStages.approverIds, decidedBy: requestStages.decidedBy,
  }).from(requestStages).innerJoin(accessRequests, eq(requestStages.requestId, accessRequests.id))
    .where(and(eq(accessRequests.beneficiaryId, beneficiaryId), eq(accessRequests.status, 'pending')))
    .orderBy(asc(requestStages.requestId), asc(requestStages.position));
  // As the inbox decides it: the first pending stage names me, and I decided no stage of that request.
  const current = new Map<string, string[]>();
  const decided = new Set<string>();
  for (const stage of stages) {
    if (stage.status === 'pending' && !current.has(stage.requestId)) current.set(stage.requestId, stage.approverIds);
    if (stage.decidedBy === personId) decided.add(stage.requestId);
  }
  return [...current].some(([request, approvers]) => approvers.includes(personId) && !decided.has(request));
};

