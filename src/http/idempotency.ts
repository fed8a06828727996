import { createHash } from 'node:crypto';
import { and, eq, isNull, lt } from 'drizzle-orm';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { canonicalJson } from '../audit/chain.js';
import type { Clock } from '../domain/clock.js';
import { TenureError } from '../domain/errors.js';
import type { Store, Tx } from '../store/database.js';
import { idempotencyKeys } from '../store/schema-service.js';
import { isDatabaseUnavailable } from '../store/transient-errors.js';
import { checkSecretDeclared, storableAnswer } from './shown-once.js';

/** How long a first attempt holds its key; a crash leaves the key free again after this. */
const LOCK_MS = 60_000;
const KEY_RULE = /^[\x21-\x7e]{1,255}$/;
/** Storing an outcome is tried this often, this far apart, while the database is unavailable: about a failover's length. */
const STORE_ATTEMPTS = 20;
const STORE_PAUSE_MS = 500;
const WRITE_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

declare module 'fastify' {
  interface FastifyRequest { idempotency: { principal: string; key: string } | undefined }
}

const fingerprint = (request: FastifyRequest): string =>
  createHash('sha256').update(`${request.method} ${request.url}\n${canonicalJson(request.body ?? null)}`).digest('hex');

/** Returns true when the reply was answered from a stored outcome (a retry), false to go on. */
const claim = async (store: Store, clock: Clock, request: FastifyRequest, reply: FastifyReply, key: string): Promise<boolean> => {
  const principal = request.principal!.identityId;
  const now = clock.now();
  const requestHash = fingerprint(request);
  const route = `${request.method} ${request.routeOptions.url ?? ''}`;
  const lockedUntil = new Date(now.getTime() + LOCK_MS);
  const inserted = await store.db.insert(idempotencyKeys).values({ principal, key, route, requestHash, createdAt: now, lockedUntil })
    .onConflictDoNothing().returning({ key: idempotencyKeys.key });
  if (inserted.length > 0) { request.idempotency = { principal, key }; return false; }
  const [row] = await store.db.select().from(idempotencyKeys).where(and(eq(idempotencyKeys.principal, principal), eq(idempotencyKeys.key, key)));
  if (!row || row.requestHash !== requestHash) {
    throw new TenureError('idempotency.key_reused', 'this Idempotency-Key was used for a different request', { field: 'Idempotency-Key' });
  }
  if (row.statusCode !== null) {
    await reply.code(row.statusCode).header('idempotent-replayed', 'true')
      .type(row.statusCode >= 400 ? 'application/problem+json' : 'application/json').send(JSON.stringify(row.response));
    return true;
  }
  if (row.committedAt !== null) {
    throw new TenureError('idempotency.outcome_lost',
      'the request with this Idempotency-Key was carried out, but its answer was lost (the database connection broke while it committed): read the result instead of retrying');
  }
  // A first attempt still holds the key, unless it died: then this retry takes it over.
  const taken = await store.db.update(idempotencyKeys).set({ lockedUntil })
    .where(and(eq(idempotencyKeys.principal, principal), eq(idempotencyKeys.key, key), lt(idempotencyKeys.lockedUntil, now)))
    .returning({ key: idempotencyKeys.key });
  if (taken.length === 0) throw new TenureError('idempotency.in_progress', 'a request with this Idempotency-Key is still running; retry later');
  request.idempotency = { principal, key };
  return false;
};

/**
 * What the request's units of work write in their own commits while it holds a key (see
 * Context.markCommit): the key's `committed_at`. Only the holder's row, which nobody else updates
 * while its lock lasts, so this adds no lock wait to the unit of work.
 */
export const idempotencyCommitMark = (request: FastifyRequest): ((tx: Tx, now: Date) => Promise<void>) | undefined => {
  const held = request.idempotency;
  if (!held) return undefined;
  return async (tx, now) => {
    await tx.update(idempotencyKeys).set({ committedAt: now })
      .where(and(eq(idempotencyKeys.principal, held.principal), eq(idempotencyKeys.key, held.key)));
  };
};

/**
 * The write has happened; only its outcome is left to store. Lost, the caller's retry would wait out
 * the key's lock and then run the write a second time, so a database that is away for a moment (a
 * failover) is waited for. Should it stay away, the answer still goes out: the caller then has its
 * outcome and no reason to retry, which a 503 would have given it.
 */
const storeOutcome = async (update: () => Promise<unknown>, request: FastifyRequest): Promise<void> => {
  for (let attempt = 1; ; attempt += 1) {
    try {
      await update();
      return;
    } catch (error) {
      if (!isDatabaseUnavailable(error)) throw error;
      if (attempt >= STORE_ATTEMPTS) {
        request.log.warn({ cause: (error as Error).message }, 'the outcome of an Idempotency-Key could not be stored: a retry after the key\'s lock may run the write again');
        return;
      }
      await new Promise((resolve) => setTimeout(resolve, STORE_PAUSE_MS));
    }
  }
};

/**
 * `Idempotency-Key` on writes: the first request runs and its outcome (success or refusal) is
 * stored; a retry with the same key and body gets that outcome back without writing again; the same
 * key with another body is refused. A 5xx is not stored, so the retry runs again. A secret in the
 * answer is never stored: the replay says it was shown once instead (see shown-once.ts), and a
 * route that answers a secret-like field without declaring it is refused at start-up.
 */
export const supportIdempotencyKeys = (app: FastifyInstance, store: Store, clock: Clock): void => {
  app.addHook('onRoute', checkSecretDeclared);
  app.decorateRequest('idempotency', undefined);
  app.addHook('preHandler', async (request, reply) => {
    const key = request.headers['idempotency-key'];
    if (key === undefined || !WRITE_METHODS.has(request.method) || !request.principal) return;
    if (typeof key !== 'string' || !KEY_RULE.test(key)) {
      throw new TenureError('input.invalid', 'Idempotency-Key: must be 1-255 visible ASCII characters', { field: 'Idempotency-Key' });
    }
    if (await claim(store, clock, request, reply, key)) return reply;
    return undefined;
  });
  app.addHook('onSend', async (request, reply, payload) => {
    const held = request.idempotency;
    if (!held) return payload;
    request.idempotency = undefined;
    const where = and(eq(idempotencyKeys.principal, held.principal), eq(idempotencyKeys.key, held.key));
    // A failed attempt gives its key back so that the retry runs, unless one of its units of work
    // committed (a COMMIT whose answer was lost): that retry is refused as outcome_lost instead. When
    // the database is what failed, the delete may fail too: the key is then free again after LOCK_MS,
    // as after a crash (and still refused if it committed), and the 503 still reaches the caller (an
    // error here would turn it into Fastify's bare 500).
    if (reply.statusCode >= 500) await store.db.delete(idempotencyKeys).where(and(where, isNull(idempotencyKeys.committedAt))).catch(() => undefined);
    else {
      const response = storableAnswer(String(payload), reply.statusCode, request.routeOptions.config.shownOnce);
      await storeOutcome(() => store.db.update(idempotencyKeys).set({ statusCode: reply.statusCode, response }).where(where), request);
    }
    return payload;
  });
};
