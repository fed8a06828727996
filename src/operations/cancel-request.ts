import { eq } from 'drizzle-orm';
import { z } from 'zod';
import { TenureError } from '../domain/errors.js';
import { lockIdentity } from '../store/queries/identities.js';
import { accessRequests } from '../store/schema.js';
import { loadActor, may, requireMayAct } from './authorize.js';
import { inTransaction, type Context } from '../work/context.js';
import { parseInput, text } from './input.js';
import { cancelPendingRequests } from './lib/ending/end-access.js';

export const Input = z.object({ request: z.uuid('must be a request id'), reason: text(2000) }).strict();

/** The requester or the beneficiary withdraws a pending or queued request (IAM may too). */
export const cancelRequest = async (ctx: Context, input: z.input<typeof Input>) => {
  const data = parseInput(Input, input);
  return inTransaction(ctx, async (work) => {
    const acting = await loadActor(work.tx, work.actor.id);
    const missing = () => new TenureError('request.not_found', `no request '${data.request}'`, { field: 'request' });
    const [seen] = await work.tx.select({ beneficiaryId: accessRequests.beneficiaryId }).from(accessRequests).where(eq(accessRequests.id, data.request));
    if (!seen) throw missing();
    // The beneficiary, then the request: the lock order beside inTransaction, as a decision takes them.
    await lockIdentity(work.tx, seen.beneficiaryId);
    const [request] = await work.tx.select().from(accessRequests).where(eq(accessRequests.id, data.request)).for('update');
    if (!request) throw missing();
    const mine = [request.requesterId, request.beneficiaryId].includes(acting.identity.id);
    requireMayAct(acting, { allowed: mine || may(acting, 'request.on_behalf_of_anyone'), readAll: 'request.read_all', notFound: missing,
      refusal: 'only the requester, the beneficiary or IAM may cancel a request' });
    // A check-out waiting in a shared account's line may be withdrawn as a pending request may.
    if (request.status !== 'pending' && request.status !== 'queued') throw new TenureError('request.not_pending', `the request is ${request.status}`);
    await cancelPendingRequests(work, eq(accessRequests.id, request.id), data.reason);
    return { id: request.id, status: 'cancelled' as const };
  });
};
