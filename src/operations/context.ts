import type { Actor, AuditInput } from '../audit/event-types.js';
import { appendAuditEvents } from '../audit/append.js';
import type { Clock } from '../domain/clock.js';
import type { Store, Tx } from '../store/database.js';

/** Everything a use case needs from the outside: where the data is, what time it is, who acts. */
export interface Context {
  store: Store;
  clock: Clock;
  actor: Actor;
}

/** One unit of work: a transaction, its single `now`, and the audit events it will commit with it. */
export interface Work {
  tx: Tx;
  now: Date;
  actor: Actor;
  record(event: AuditInput): void;
}

/**
 * Runs `fn` in one transaction and appends its audit events last, in the same transaction: a state
 * change and its evidence commit together or not at all. Appending last keeps the audit head lock
 * (which serialises writers) held for the shortest time and always taken after the row locks.
 */
export const inTransaction = async <T>(ctx: Context, fn: (work: Work) => Promise<T>): Promise<T> => {
  const now = ctx.clock.now();
  return ctx.store.db.transaction(async (tx) => {
    const events: AuditInput[] = [];
    const result = await fn({ tx, now, actor: ctx.actor, record: (event) => { events.push(event); } });
    await appendAuditEvents(tx, now, ctx.actor, events);
    return result;
  });
};
