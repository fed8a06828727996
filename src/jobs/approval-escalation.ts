/**
 * A stage that waits too long escalates (the policy's approval.escalate_after, three days by
 * default): its alternates may decide it too, beside its primaries, so that an absent sponsor or
 * owner does not leave a contractor's request to lapse unseen. Once per stage (`escalated_at`),
 * audited as `request.escalated`, which mails everyone who may now decide it, and IAM, who names
 * alternates where there are none. Separation of duties holds as on every routing: the approvers
 * come from `eligibleForStage`, which leaves out the requester, the beneficiary and their parties,
 * and the decision still refuses anyone who decided an earlier stage.
 */
import { and, asc, eq, inArray, sql } from 'drizzle-orm';
import { excludedFromRequest } from '../domain/approval-rules.js';
import { formatDuration } from '../domain/durations.js';
import { approvalTimingOf, type AppliedPolicy } from '../domain/policy-types.js';
import type { StageKind } from '../domain/model.js';
import { partiesOfStoredRequest } from '../operations/lib/approval/parties.js';
import { ApprovalReads } from '../operations/lib/approval/approval-reads.js';
import { eligibleForStage } from '../operations/lib/approval/stage-candidates.js';
import { findAppliedPolicy } from '../policy/applied.js';
import { rawRows } from '../store/database.js';
import { findEntitlement } from '../store/queries/catalogue.js';
import { findIdentityById } from '../store/queries/identities.js';
import { accessRequests, requestStages } from '../store/schema.js';
import { inTransaction, type Context, type Work } from '../work/context.js';

/** Requests whose first pending stage has waited since before `before` and has not escalated yet. */
const dueRequestIds = async (work: Work, before: Date, limit: number): Promise<string[]> => (await rawRows<{ id: string }>(work.tx, sql`
  WITH current AS (
    SELECT r.id, r.created_at, min(s.position) AS position FROM access_requests r
    JOIN request_stages s ON s.request_id = r.id AND s.status = 'pending'
    WHERE r.status = 'pending' GROUP BY r.id, r.created_at)
  SELECT c.id FROM current c JOIN request_stages s ON s.request_id = c.id AND s.position = c.position
  WHERE s.escalated_at IS NULL
    AND coalesce((SELECT max(p.decided_at) FROM request_stages p WHERE p.request_id = c.id AND p.position < c.position), c.created_at)
      <= ${before.toISOString()}::timestamptz
  LIMIT ${limit}`)).map((r) => r.id);

type Request = typeof accessRequests.$inferSelect;

/** Escalates the request's waiting stage, checked again under the request's lock; false when it no longer waits. */
const escalateOne = async (work: Work, policy: AppliedPolicy, request: Request, before: Date, escalateAfterMs: number): Promise<boolean> => {
  const stages = await work.tx.select().from(requestStages).where(eq(requestStages.requestId, request.id)).orderBy(asc(requestStages.position));
  const current = stages.find((s) => s.status === 'pending');
  if (!current || current.escalatedAt) return false;
  const waitingSince = stages.filter((s) => s.position < current.position && s.decidedAt)
    .reduce((latest, s) => (s.decidedAt! > latest ? s.decidedAt! : latest), request.createdAt);
  if (waitingSince > before) return false;
  const beneficiary = await findIdentityById(work.tx, request.beneficiaryId);
  if (!beneficiary) return false;
  const { entitlement, system } = await findEntitlement(work.tx, request.entitlementId);
  const exclude = excludedFromRequest(request.requesterId, request.beneficiaryId, await partiesOfStoredRequest(work.tx, request));
  const approverIds = await eligibleForStage(new ApprovalReads(work.tx), policy, { kind: current.kind as StageKind, usesAlternates: true },
    beneficiary, system, entitlement.key, exclude);
  await work.tx.update(requestStages).set({ approverIds, usesAlternates: true, escalatedAt: work.now })
    .where(and(eq(requestStages.requestId, request.id), eq(requestStages.position, current.position)));
  // Someone who decided an earlier stage stays listed on the stage but may not decide it: not told it waits for them.
  const deciders = new Set(stages.flatMap((s) => (s.decidedBy ? [s.decidedBy] : [])));
  const mayDecide = approverIds.filter((id) => !deciders.has(id));
  work.record({ action: 'request.escalated', subject: { type: 'request', id: request.id }, identityId: request.beneficiaryId, systemId: system.id,
    before: { approverIds: current.approverIds },
    after: { stage: current.position, kind: current.kind, waitingSince: waitingSince.toISOString(), approverIds: mayDecide,
      escalatedToIds: mayDecide.filter((id) => !current.approverIds.includes(id)) },
    reason: `waited longer than ${formatDuration(escalateAfterMs)} (approval.escalate_after)` });
  return true;
};

/**
 * One batch in one transaction. The request row is the decision point, locked as an approval locks
 * it (after the beneficiary, which escalation does not need): an approval under way holds it, so
 * SKIP LOCKED leaves that request to the next pass instead of opening a stage being decided right
 * now, and two workers never escalate one stage twice.
 */
const escalateBatch = async (work: Work, limit: number): Promise<{ seen: number; escalated: number }> => {
  const policy = await findAppliedPolicy(work.tx);
  if (!policy) return { seen: 0, escalated: 0 };
  const { escalateAfterMs } = approvalTimingOf(policy);
  const before = new Date(work.now.getTime() - escalateAfterMs);
  const ids = await dueRequestIds(work, before, limit);
  if (ids.length === 0) return { seen: 0, escalated: 0 };
  const locked = await work.tx.select().from(accessRequests).where(and(inArray(accessRequests.id, ids), eq(accessRequests.status, 'pending')))
    .orderBy(asc(accessRequests.id)).for('update', { skipLocked: true });
  let escalated = 0;
  for (const request of locked) if (await escalateOne(work, policy, request, before, escalateAfterMs)) escalated += 1;
  return { seen: ids.length, escalated };
};

/** Escalates every stage due now, a batch per transaction; returns how many. Safe in several processes at once. */
export const escalateWaitingApprovals = async (ctx: Context, options: { batchSize?: number } = {}): Promise<number> => {
  const limit = options.batchSize ?? 100;
  let total = 0;
  for (;;) {
    const { seen, escalated } = await inTransaction(ctx, (work) => escalateBatch(work, limit));
    total += escalated;
    // A batch that escalated nothing it saw is held by approvals under way: the next pass takes it.
    if (seen < limit || escalated === 0) return total;
  }
};
