import { and, eq } from 'drizzle-orm';
import type { Executor } from '../../../store/database.js';
import { accessRequests, requestCurrentApprovers } from '../../../store/schema.js';

/**
 * Whether `personId` is asked to decide a request for `beneficiaryId` now: a row of theirs in
 * request_current_approvers (the inbox's own source) for one of the beneficiary's pending requests.
 * Such a person may read the beneficiary's current grants and engagement, which they need to decide,
 * and only while the request waits for them: once they have decided, or the request has moved on,
 * the view closes again.
 */
export const approvesPendingFor = async (exec: Executor, beneficiaryId: string, personId: string): Promise<boolean> => {
  const [row] = await exec.select({ id: accessRequests.id }).from(requestCurrentApprovers)
    .innerJoin(accessRequests, eq(accessRequests.id, requestCurrentApprovers.requestId))
    .where(and(eq(requestCurrentApprovers.identityId, personId), eq(accessRequests.beneficiaryId, beneficiaryId), eq(accessRequests.status, 'pending')))
    .limit(1);
  return row !== undefined;
};
