import { z } from 'zod';
import { TenureError } from '../domain/errors.js';
import { isDatabaseUnavailable } from '../store/transient-errors.js';
import { approveRequest } from './approve-request.js';
import type { Context } from '../work/context.js';
import { parseInput, text } from './input.js';

export const Input = z.object({
  requests: z.array(z.uuid('must be a request id')).min(1, 'must name at least one request').max(100, 'must name at most 100 requests'),
  comment: text(2000).optional(),
}).strict();

export type Decision = Awaited<ReturnType<typeof approveRequest>>;

/** One request of the batch: approved (`outcome`) or refused (`refusal`, the error one approval would have raised). */
export interface ItemResult { request: string; outcome: Decision | null; refusal: TenureError | null }

/** What an item's failure says about that item; anything else is a fault of the service and ends the batch. */
const refusalOf = (error: unknown): TenureError | undefined => {
  if (error instanceof TenureError) return error;
  if (isDatabaseUnavailable(error)) return new TenureError('service.unavailable', 'the database could not be reached; try this request again shortly');
  return undefined;
};

/**
 * Approves the current stage of each request in turn, under exactly the rules of one approval
 * (approve-request.ts), and reports every result. One transaction per request: a refusal of one
 * (say, your own request) never blocks or taints the others, and what was approved stays approved.
 */
export const approveRequests = async (ctx: Context, input: z.input<typeof Input>): Promise<{ results: ItemResult[] }> => {
  const data = parseInput(Input, input);
  const results: ItemResult[] = [];
  for (const request of data.requests) {
    try {
      results.push({ request, outcome: await approveRequest(ctx, { request, comment: data.comment }), refusal: null });
    } catch (error) {
      const refusal = refusalOf(error);
      if (!refusal) throw error;
      results.push({ request, outcome: null, refusal });
    }
  }
  return { results };
};
