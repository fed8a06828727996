import { and, eq } from 'drizzle-orm';
import { z } from 'zod';
import { accessRequests, requestStages } from '../store/schema.js';
import { inTransaction, type Context } from '../work/context.js';
import { parseInput, text } from './input.js';
import { loadForDecision } from './lib/approval/decision.js';

export const Input = z.object({
  request: z.uuid('must be a request id'), reason: text(2000), stage: z.number().int().min(0).optional(),
}).strict();

/** Any eligible approver of the current stage may deny; a denied request grants nothing, ever. */
export const denyRequest = async (ctx: Context, input: z.input<typeof Input>) => {
  const data = parseInput(Input, input);
  return inTransaction(ctx, async (work) => {
    const { acting, request, current, system } = await loadForDecision(work, data.request, data.stage);
    await work.tx.update(requestStages).set({ status: 'denied', decidedBy: acting.identity.id, decidedAt: work.now, comment: data.reason })
      .where(and(eq(requestStages.requestId, request.id), eq(requestStages.position, current.position)));
    await work.tx.update(requestStages).set({ status: 'cancelled' })
      .where(and(eq(requestStages.requestId, request.id), eq(requestStages.status, 'pending')));
    await work.tx.update(accessRequests).set({ status: 'denied', decidedAt: work.now, decisionReason: data.reason })
      .where(eq(accessRequests.id, request.id));
    work.record({ action: 'request.denied', subject: { type: 'request', id: request.id }, identityId: request.beneficiaryId,
      systemId: system.id, before: { status: 'pending' }, after: { status: 'denied', stage: current.kind }, reason: data.reason });
    return { id: request.id, status: 'denied' as const };
  });
};
