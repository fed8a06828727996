import type { Context, Work } from './context.js';

/** Undoes a transaction or savepoint on purpose. */
export class RolledBack extends Error {}

/**
 * Runs `fn` in a transaction that is always rolled back: a "what would happen" with the real rules
 * and the real data, that leaves nothing (no audit event either: there is nothing to record).
 * It holds what `fn` locks until it returns, so `fn` must be short.
 */
export const inRolledBackTransaction = async <T>(ctx: Context, fn: (work: Work) => Promise<T>): Promise<T> => {
  let result: { value: T } | undefined;
  await ctx.store.db.transaction(async (tx) => {
    result = { value: await fn({ tx, now: ctx.clock.now(), actor: ctx.actor, record: () => undefined }) };
    throw new RolledBack();
  }).catch((error: unknown) => { if (!(error instanceof RolledBack)) throw error; });
  return result!.value;
};
