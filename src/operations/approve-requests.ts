import { inArray } from 'drizzle-orm';
import { z } from 'zod';
import { TenureError } from '../domain/errors.js';
import { accessRequests } from '../store/schema.js';
import { isDatabaseUnavailable } from '../store/transient-errors.js';
import { approveRequest } from './approve-request.js';
import type { Context } from '../work/context.js';
import { parseInput, text } from './input.js';

export const MAX_BULK_APPROVALS = 1000;

export const Input = z.object({
  requests: z.array(z.uuid('must be a request id')).min(1, 'must name at least one request')
    .max(MAX_BULK_APPROVALS, `must name at most ${MAX_BULK_APPROVALS} requests`),
  comment: text(2000).optional(),
}).strict();

export type Decision = Awaited<ReturnType<typeof approveRequest>>;

/** One request of the batch: approved (`outcome`) or refused (`refusal`, the error one approval would have raised). */
export interface ItemResult { request: string; outcome: Decision | null; refusal: TenureError | null }

/**
 * How many approvals of one batch are under way at once. Each holds a connection for its
 * transaction, so a bulk approval of a thousand takes at most this many of the pool (ten by default)
 * and leaves the rest to everyone else; four keep both the database and this process busy.
 */
export const APPROVALS_AT_ONCE = 4;

/** What an item's failure says about that item; anything else is a fault of the service and ends the batch. */
const refusalOf = (error: unknown): TenureError | undefined => {
  if (error instanceof TenureError) return error;
  if (isDatabaseUnavailable(error)) return new TenureError('service.unavailable', 'the database could not be reached; try this request again shortly');
  return undefined;
};

/**
 * The batch's positions in lanes, one lane per beneficiary, in the order asked. The requests of one
 * person are decided one after another in that order, as one at a time would: when two of them
 * cannot both be held (separation of duties), the first asked is the one approved. Lanes of
 * different people run side by side. An id that names no request is a lane of its own, refused as
 * not found by its approval.
 */
const lanesOf = async (ctx: Context, requests: readonly string[]): Promise<number[][]> => {
  const rows = await ctx.store.db.select({ id: accessRequests.id, beneficiaryId: accessRequests.beneficiaryId }).from(accessRequests)
    .where(inArray(accessRequests.id, [...new Set(requests)]));
  const beneficiaryOf = new Map(rows.map((r) => [r.id, r.beneficiaryId]));
  const lanes = new Map<string, number[]>();
  requests.forEach((id, position) => {
    const lane = beneficiaryOf.get(id) ?? `unknown:${id}`;
    lanes.set(lane, [...(lanes.get(lane) ?? []), position]);
  });
  return [...lanes.values()];
};

/**
 * Approves the current stage of each request under exactly the rules of one approval
 * (approve-request.ts), and reports every result in the order asked. One transaction per request: a
 * refusal of one (say, your own request) never blocks or taints the others, and what was approved
 * stays approved. A fault of the service starts nothing more and is raised once those under way end.
 */
export const approveRequests = async (ctx: Context, input: z.input<typeof Input>): Promise<{ results: ItemResult[] }> => {
  const data = parseInput(Input, input);
  const results: ItemResult[] = new Array<ItemResult>(data.requests.length);
  const waiting = await lanesOf(ctx, data.requests);
  let fault: { error: unknown } | undefined;
  const decide = async (position: number) => {
    const request = data.requests[position]!;
    try {
      results[position] = { request, outcome: await approveRequest(ctx, { request, comment: data.comment }), refusal: null };
    } catch (error) {
      const refusal = refusalOf(error);
      if (!refusal) fault ??= { error };
      else results[position] = { request, outcome: null, refusal };
    }
  };
  const worker = async () => {
    for (let lane = waiting.shift(); lane && !fault; lane = waiting.shift()) {
      for (const position of lane) if (!fault) await decide(position);
    }
  };
  await Promise.all(Array.from({ length: Math.min(APPROVALS_AT_ONCE, waiting.length) }, worker));
  if (fault) throw fault.error;
  return { results };
};
