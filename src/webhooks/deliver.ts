import { sql } from 'drizzle-orm';
import type { Context } from '../work/context.js';
import { rawRows } from '../store/database.js';
import { decryptSecret, previousSecretContext, urlContext, type WebhookKeyRing } from './crypto.js';
import { ID_HEADER, SIGNATURE_HEADER, signatureHeader, standardWebhookHeaders } from './signature.js';

export interface DeliverOptions {
  /** How long one POST may take before it counts as failed. */
  timeoutMs: number;
  /** How long a claim holds a delivery; past it, a worker that died is presumed gone and the delivery is retried. */
  lockMs: number;
  maxAttempts: number;
  batchSize: number;
  /** POSTs in flight at once per worker. */
  concurrency: number;
  /** Deliveries attempted per call at most, so one call never runs unbounded behind a slow receiver. */
  maxPerCall: number;
  random: () => number;
}

export const DELIVERY_DEFAULTS: DeliverOptions = {
  timeoutMs: 10_000, lockMs: 60_000, maxAttempts: 12, batchSize: 50, concurrency: 8, maxPerCall: 200, random: Math.random,
};

const BACKOFF_BASE_MS = 30_000;
const BACKOFF_CAP_MS = 3_600_000;

/**
 * 30 s · 2^(attempt-1), capped at one hour, minus up to 20% jitter so that many deliveries failing
 * together (a receiver down) do not all come back in the same second. Each step still grows: the
 * earliest next wait (1.6x) is later than the latest previous one (1x).
 */
export const backoffMs = (attempt: number, random: () => number = Math.random): number =>
  Math.round(Math.min(BACKOFF_CAP_MS, BACKOFF_BASE_MS * 2 ** (attempt - 1)) * (0.8 + 0.2 * random()));

interface Claimed {
  id: string; attempt: number; subscription_id: string; payload: unknown; event_key: string; url: string; url_ciphertext: string | null; secret_ciphertext: string;
  previous_secret_ciphertext: string | null; previous_secret_until: Date | string | null;
}

/**
 * A delivery whose last allowed attempt was claimed by a worker that never reported back has no
 * attempt left: it fails, visibly, instead of being retried past the limit.
 */
const abandonExhausted = async (ctx: Context, now: Date, options: DeliverOptions): Promise<number> => {
  const rows = await rawRows<{ id: string }>(ctx.store.db, sql`
    UPDATE webhook_deliveries SET status = 'failed', locked_until = NULL,
      last_error = 'the last attempt did not finish before its lock expired (the worker stopped?)'
    WHERE status = 'pending' AND attempts >= ${options.maxAttempts} AND locked_until <= ${now.toISOString()}::timestamptz
    RETURNING id`);
  return rows.length;
};

/**
 * Claims due deliveries in one short transaction: SKIP LOCKED so concurrent workers take disjoint
 * rows, the attempt counted and logged before any POST, and a lock that expires on its own if this
 * worker dies. The POSTs happen after the commit, never while holding row locks.
 */
export const claimDue = async (ctx: Context, now: Date, options: DeliverOptions): Promise<Claimed[]> =>
  ctx.store.db.transaction(async (tx) => {
    const at = now.toISOString();
    const lockedUntil = new Date(now.getTime() + options.lockMs).toISOString();
    const claimed = await rawRows<Claimed>(tx, sql`
      WITH due AS (
        SELECT d.id FROM webhook_deliveries d JOIN webhook_subscriptions s ON s.id = d.subscription_id
        WHERE d.status = 'pending' AND d.next_attempt_at <= ${at}::timestamptz
          AND (d.locked_until IS NULL OR d.locked_until <= ${at}::timestamptz)
          AND d.attempts < ${options.maxAttempts} AND s.disabled_at IS NULL
        ORDER BY d.next_attempt_at LIMIT ${options.batchSize}
        FOR UPDATE OF d SKIP LOCKED)
      UPDATE webhook_deliveries d SET attempts = d.attempts + 1,
        locked_until = ${lockedUntil}::timestamptz
      FROM due, webhook_subscriptions s
      WHERE d.id = due.id AND s.id = d.subscription_id
      RETURNING d.id, d.attempts AS attempt, d.subscription_id, d.payload, d.event_key, s.url, s.url_ciphertext, s.secret_ciphertext,
        s.previous_secret_ciphertext, s.previous_secret_until`);
    if (claimed.length > 0) {
      const attempts = claimed.map((c) => ({ delivery_id: c.id, attempt: c.attempt }));
      await tx.execute(sql`
        INSERT INTO webhook_attempts (delivery_id, attempt, started_at)
        SELECT a.delivery_id, a.attempt, ${at}::timestamptz FROM json_to_recordset(${JSON.stringify(attempts)}::json) AS a(delivery_id uuid, attempt int)`);
    }
    return claimed;
  });

interface Outcome { ok: boolean; statusCode: number | null; error: string | null }

const reasonOf = (error: unknown): string => {
  const e = error as Error & { cause?: { code?: string; message?: string } };
  const cause = e.cause ? `: ${e.cause.code ?? e.cause.message ?? ''}` : '';
  return `${e.name === 'TimeoutError' ? 'timed out' : e.message}${cause}`.slice(0, 500);
};

/** The current secret, and the one a rotation replaced while its overlap lasts (see rotateWebhookSecret). */
const signingSecrets = (key: WebhookKeyRing, delivery: Claimed, at: Date): string[] => {
  const current = decryptSecret(key, delivery.secret_ciphertext, delivery.subscription_id);
  const until = delivery.previous_secret_until === null ? null : new Date(delivery.previous_secret_until);
  if (delivery.previous_secret_ciphertext === null || until === null || until <= at) return [current];
  return [current, decryptSecret(key, delivery.previous_secret_ciphertext, previousSecretContext(delivery.subscription_id))];
};

/** One signed POST. Redirects are not followed: a receiver that moved must be re-registered, not chased. */
const post = async (ctx: Context, key: WebhookKeyRing, delivery: Claimed, options: DeliverOptions): Promise<Outcome> => {
  let secrets: string[];
  let url: string;
  const at = ctx.clock.now();
  try {
    secrets = signingSecrets(key, delivery, at);
    // A subscription made before URLs were encrypted has its full URL in the url column.
    url = delivery.url_ciphertext ? decryptSecret(key, delivery.url_ciphertext, urlContext(delivery.subscription_id)) : delivery.url;
  } catch (error) {
    return { ok: false, statusCode: null, error: (error as Error).message };
  }
  const body = JSON.stringify(delivery.payload);
  try {
    const response = await fetch(url, {
      method: 'POST', body, redirect: 'manual', signal: AbortSignal.timeout(options.timeoutMs),
      headers: {
        'Content-Type': 'application/json', 'User-Agent': 'Tenure-Webhooks/1',
        ...standardWebhookHeaders(secrets, delivery.event_key, body, at),
        // Deprecated, sent for one release so that receivers can move to the headers above.
        [ID_HEADER]: delivery.event_key, [SIGNATURE_HEADER]: signatureHeader(secrets, body, at),
      },
    });
    // The body is never read or kept: a receiver's answer is not Tenure's to store.
    await response.body?.cancel().catch(() => undefined);
    const ok = response.status >= 200 && response.status < 300;
    return { ok, statusCode: response.status, error: ok ? null : `HTTP ${response.status}` };
  } catch (error) {
    return { ok: false, statusCode: null, error: reasonOf(error) };
  }
};

/**
 * Records an attempt's outcome. The delivery row changes only if this worker still holds the
 * attempt it claimed: one that outlived its lock must not overwrite the retry that took over.
 */
const record = async (ctx: Context, delivery: Claimed, outcome: Outcome, options: DeliverOptions): Promise<void> => {
  const now = ctx.clock.now();
  const at = now.toISOString();
  const giveUp = delivery.attempt >= options.maxAttempts;
  const next = new Date(now.getTime() + backoffMs(delivery.attempt, options.random)).toISOString();
  await ctx.store.db.transaction(async (tx) => {
    await tx.execute(sql`
      UPDATE webhook_attempts SET finished_at = ${at}::timestamptz, status_code = ${outcome.statusCode}, error = ${outcome.error}
      WHERE delivery_id = ${delivery.id} AND attempt = ${delivery.attempt}`);
    await tx.execute(outcome.ok
      ? sql`UPDATE webhook_deliveries SET status = 'delivered', delivered_at = ${at}::timestamptz, locked_until = NULL, last_error = NULL
            WHERE id = ${delivery.id} AND attempts = ${delivery.attempt} AND status = 'pending'`
      : sql`UPDATE webhook_deliveries SET status = ${giveUp ? 'failed' : 'pending'}, next_attempt_at = ${next}::timestamptz,
              locked_until = NULL, last_error = ${outcome.error}
            WHERE id = ${delivery.id} AND attempts = ${delivery.attempt} AND status = 'pending'`);
  });
};

/** Runs `work` over `items` with at most `limit` in flight. */
const pooled = async <T>(items: T[], limit: number, work: (item: T) => Promise<void>): Promise<void> => {
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < items.length) { const item = items[next++]!; await work(item); }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
};

export interface DeliverResult { delivered: number; failed: number; abandoned: number }

/** Attempts every due delivery (up to `maxPerCall`): claim a batch, POST it, record, repeat. */
export const deliverDue = async (ctx: Context, key: WebhookKeyRing, overrides: Partial<DeliverOptions> = {}): Promise<DeliverResult> => {
  const options = { ...DELIVERY_DEFAULTS, ...overrides };
  const result: DeliverResult = { delivered: 0, failed: 0, abandoned: await abandonExhausted(ctx, ctx.clock.now(), options) };
  let attempted = 0;
  while (attempted < options.maxPerCall) {
    const claimed = await claimDue(ctx, ctx.clock.now(), options);
    attempted += claimed.length;
    await pooled(claimed, options.concurrency, async (delivery) => {
      const outcome = await post(ctx, key, delivery, options);
      await record(ctx, delivery, outcome, options);
      if (outcome.ok) result.delivered += 1; else result.failed += 1;
    });
    if (claimed.length < options.batchSize) break;
  }
  return result;
};
