/**
 * The write rate limit, counted in the database so that every server process behind a load balancer
 * spends from the same budget. A budget is an identity (all of its tokens and sessions together:
 * minting another token buys no more writes) or, for a caller not signed in, the client address
 * (the real one when TENURE_TRUST_PROXY names the balancers). Windows are fixed minutes: one row
 * per budget and minute, incremented and read back in one statement, so concurrent writes in any
 * number of processes never get past the limit together.
 *
 * It is spent after authentication and before anything can refuse the request (scope, permission,
 * parsing, validation, the use case), so refused writes cost as much as accepted ones and cannot be
 * used to probe without limit. When the count cannot be written the request fails as the database's
 * trouble (503): the write itself would need the database anyway, and failing open would let a
 * flood through exactly when the database is struggling.
 */
import { sql } from 'drizzle-orm';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Clock } from '../domain/clock.js';
import { TenureError } from '../domain/errors.js';
import type { Store } from '../store/database.js';
import { writeRateLimits } from '../store/schema-service.js';
import type { Principal } from '../operations/lib/credentials/principal.js';

export const RATE_WINDOW_MS = 60_000;

export const isWrite = (method: string) => method !== 'GET' && method !== 'HEAD' && method !== 'OPTIONS';

/** Reads and decision-point checks are never limited: the limit protects writes. */
const spendsBudget = (request: FastifyRequest) => isWrite(request.method) && request.routeOptions.url !== '/v1/check';

export const budgetOf = (principal: Principal | undefined, clientAddress: string): string =>
  (principal ? `identity:${principal.identityId}` : `address:${clientAddress}`);

/** Adds one to the budget's count in the current window and answers the new count: one round trip. */
const countWrite = async (store: Store, budget: string, windowStart: Date): Promise<number> => {
  const [row] = await store.db.insert(writeRateLimits).values({ budget, windowStart, count: 1 })
    .onConflictDoUpdate({ target: [writeRateLimits.budget, writeRateLimits.windowStart], set: { count: sql`${writeRateLimits.count} + 1` } })
    .returning({ count: writeRateLimits.count });
  return row!.count;
};

export type SpendWrite = (request: FastifyRequest, reply: FastifyReply, principal: Principal | undefined) => Promise<void>;

/**
 * Spends one write of the caller's budget, or refuses with 429 once `max` are spent this minute.
 * The headers are those the earlier in-memory limiter sent, so clients reading them go on working.
 */
export const writeBudget = (store: Store, clock: Clock, max: number): SpendWrite => async (request, reply, principal) => {
  if (!spendsBudget(request)) return;
  const now = clock.now().getTime();
  const windowStart = now - (now % RATE_WINDOW_MS);
  const count = await countWrite(store, budgetOf(principal, request.ip), new Date(windowStart));
  const resetSeconds = Math.ceil((windowStart + RATE_WINDOW_MS - now) / 1000);
  reply.header('x-ratelimit-limit', String(max));
  reply.header('x-ratelimit-remaining', String(Math.max(0, max - count)));
  reply.header('x-ratelimit-reset', String(resetSeconds));
  if (count > max) {
    reply.header('retry-after', String(resetSeconds));
    throw new TenureError('rate.limited', `more than ${max} writes this minute; retry after the time in Retry-After`);
  }
};
