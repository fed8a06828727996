import { and, eq } from 'drizzle-orm';
import { z } from 'zod';
import { requestStages } from '../store/schema.js';
import { inTransaction, type Context } from '../work/context.js';
import { parseInput, text } from './input.js';
import { loadForDecision } from './lib/approval/decision.js';
import { queueCheckOut } from './lib/approval/check-out-queue.js';
import { issueGrant } from './lib/approval/issue-grant.js';

export const Input = z.object({
  request: z.uuid('must be a request id'), comment: text(2000).optional(), stage: z.number().int().min(0).optional(),
}).strict();

/**
 * Approves the current stage of a request. The last approval creates the grant in the same
 * transaction, so an approved request has exactly one grant and a failed one has none; or, for a
 * check-out of a shared account someone holds, puts it in the account's line (`queued`, with the
 * holder and the place), from which the worker pass gives it when the account is free.
 */
export const approveRequest = async (ctx: Context, input: z.input<typeof Input>) => {
  const data = parseInput(Input, input);
  return inTransaction(ctx, async (work) => {
    const decision = await loadForDecision(work, data.request, data.stage);
    const { acting, request, stages, current, system } = decision;
    await work.tx.update(requestStages)
      .set({ status: 'approved', decidedBy: acting.identity.id, decidedAt: work.now, comment: data.comment ?? null })
      .where(and(eq(requestStages.requestId, request.id), eq(requestStages.position, current.position)));
    work.record({ action: 'request.stage_approved', subject: { type: 'request', id: request.id }, identityId: request.beneficiaryId,
      systemId: system.id, after: { stage: current.position, kind: current.kind }, reason: data.comment ?? null });
    const remaining = stages.filter((s) => s.status === 'pending' && s.position !== current.position);
    if (remaining.length > 0) return { id: request.id, status: 'pending' as const, nextStage: remaining[0]!.kind, grantId: null };
    const issued = await issueGrant(work, { ...decision, approverId: acting.identity.id }, { queue: true });
    if (issued.queued) {
      const queue = await queueCheckOut(work, decision, issued.holder);
      return { id: request.id, status: 'queued' as const, nextStage: null, grantId: null, queue };
    }
    const { grantId } = issued;
    work.record({ action: 'request.approved', subject: { type: 'request', id: request.id }, identityId: request.beneficiaryId,
      systemId: system.id, before: { status: 'pending' }, after: { status: 'approved', grantId } });
    return { id: request.id, status: 'approved' as const, nextStage: null, grantId };
  });
};
