import type { Actor, AuditInput } from '../audit/event-types.js';
import { appendAuditEvents } from '../audit/append.js';
import type { Clock } from '../domain/clock.js';
import { TenureError } from '../domain/errors.js';
import type { Store, Tx } from '../store/database.js';
import { errorCodeOf, isConnectionLoss, isRetryableConflict } from '../store/transient-errors.js';

/** Everything a use case needs from the outside: where the data is, what time it is, who acts. */
export interface Context {
  store: Store;
  clock: Clock;
  actor: Actor;
  /**
   * Written in every unit of work's own commit (the HTTP layer's Idempotency-Key mark): what makes a
   * commit whose acknowledgement was lost knowable afterwards.
   */
  markCommit?: (tx: Tx, now: Date) => Promise<void>;
}

/** One unit of work: a transaction, its single `now`, and the audit events it will commit with it. */
export interface Work {
  tx: Tx;
  now: Date;
  actor: Actor;
  record(event: AuditInput): void;
}

/*
 * THE LOCK ORDER. Every unit of work takes its row locks in this order, and never waits for an
 * earlier kind while holding a later one; two units of work then queue instead of deadlocking:
 *
 *   1. identities: the person whose access changes (beneficiary, holder, subject of a status
 *      change), FOR UPDATE, before anything else is read for a decision (`lockIdentity`).
 *      Serialising per person is also what makes the separation-of-duties, duplicate and standing
 *      checks true at commit: a second grant for the same person waits, then sees the first.
 *      Several identities: in ascending id order (`lockIdentities`).
 *   2. engagements (and a review campaign before its engagement): FOR UPDATE or FOR SHARE.
 *      A vendor row is read FOR SHARE beside its engagement (its contract end caps it) and taken
 *      FOR UPDATE only by whoever moves or carries out that end, who first holds every person the
 *      end reaches (kind 1): the person's lock is what keeps the two apart.
 *   3. access requests (with their stages), FOR UPDATE.
 *   4. grants: locked FOR UPDATE, or inserted (an INSERT key-shares its identity, engagement and
 *      request rows, which is why those must already be held when it runs).
 *   5. everything hanging off those: review items, exceptions, findings, provisioning jobs, tokens.
 *   6. the audit head, last of all: `inTransaction` appends after the unit of work's function.
 *
 * Batch jobs that pick rows by time (expiry, activation) take only kind 4 (SKIP LOCKED) and then 6,
 * so they never wait on a person. What is left (a lock taken implicitly in a rarer order) is caught
 * by the bounded retry below, never shown to a caller as a 500.
 */

/** Attempts of one unit of work on a deadlock or serialization failure (the first run included). */
export const MAX_ATTEMPTS = 4;
const BACKOFF_MS = 15;

/** Exponential, with jitter so that two transactions that just deadlocked do not collide again in step. */
const backoff = (attempt: number): Promise<void> =>
  new Promise((resolve) => setTimeout(resolve, BACKOFF_MS * 2 ** (attempt - 1) * (0.5 + Math.random())));

/** One attempt; `progress.committing` turns true once only COMMIT is left to send. */
const attemptOnce = async <T>(ctx: Context, fn: (work: Work) => Promise<T>, progress: { committing: boolean }): Promise<T> => {
  const now = ctx.clock.now();
  return ctx.store.db.transaction(async (tx) => {
    const events: AuditInput[] = [];
    const result = await fn({ tx, now, actor: ctx.actor, record: (event) => { events.push(event); } });
    // After the unit of work's own row locks and before the audit head, as lock kind 5 (see above).
    await ctx.markCommit?.(tx, now);
    await appendAuditEvents(tx, now, ctx.actor, events);
    progress.committing = true;
    return result;
  });
};

/**
 * Runs `fn` in one transaction and appends its audit events last, in the same transaction: a state
 * change and its evidence commit together or not at all. Appending last keeps the audit head lock
 * (which serialises writers) held for the shortest time and always taken after the row locks.
 *
 * A transaction the server aborted (deadlock, serialization failure) is run again from the start, in
 * a fresh transaction with a fresh `now` and recomputed audit events, up to MAX_ATTEMPTS times. A
 * connection that broke before COMMIT was sent is retried once: nothing was committed. One that broke
 * while committing is never retried (the change may have been made). Whatever is left is
 * `service.unavailable` (503). So `fn` must have no effect outside its transaction: anything that
 * leaves the process (webhooks, connectors) is queued in a table and sent after commit.
 */
export const inTransaction = async <T>(ctx: Context, fn: (work: Work) => Promise<T>): Promise<T> => {
  let connectionRetried = false;
  for (let attempt = 1; ; attempt += 1) {
    const progress = { committing: false };
    try {
      return await attemptOnce(ctx, fn, progress);
    } catch (error) {
      if (error instanceof TenureError) throw error;
      const conflict = isRetryableConflict(error);
      const lost = !conflict && isConnectionLoss(error);
      if (!conflict && !lost) throw error;
      const details = { reason: conflict ? 'contention' : progress.committing ? 'commit_outcome_unknown' : 'connection_lost', sqlstate: errorCodeOf(error) };
      if (lost && progress.committing) {
        throw new TenureError('service.unavailable', 'the database connection broke while committing: the change may or may not have been made; check before trying again', { details });
      }
      if (attempt >= MAX_ATTEMPTS || (lost && connectionRetried)) {
        throw new TenureError('service.unavailable', conflict
          ? `the database stayed contended over ${attempt} attempts and nothing was changed; try again shortly`
          : 'the database connection broke and nothing was changed; try again shortly', { details });
      }
      connectionRetried ||= lost;
      await backoff(attempt);
    }
  }
};
