import { lt, sql } from 'drizzle-orm';
import type { Context } from '../work/context.js';
import { idempotencyKeys, oidcLogins, webhookSubscriptions, writeRateLimits } from '../store/schema-service.js';

/** A retry after this long is a new request: clients retry within minutes, not days. */
export const IDEMPOTENCY_RETENTION_MS = 24 * 3_600_000;

/** A write-rate window is only read during its own minute; one more minute allows for clocks a little apart. */
const RATE_WINDOW_RETENTION_MS = 2 * 60_000;

/**
 * Forgets what is only kept for a while: idempotency outcomes older than a day, sign-ins that
 * were started but never finished, write counts of past minutes (http/write-budget.ts), and webhook
 * secrets replaced by a rotation once their overlap is over (a key nobody signs with is only a risk).
 * None is evidence (the audit log is), so deleting is safe, and a second worker deleting the same
 * rows at the same time does no harm. A rotation running meanwhile locks its row: this waits, then
 * sees the new overlap and leaves it.
 */
export const runHousekeeping = async (ctx: Context): Promise<{ idempotencyKeys: number; signIns: number; rateWindows: number; webhookSecrets: number }> => {
  const now = ctx.clock.now();
  const keys = await ctx.store.db.delete(idempotencyKeys)
    .where(lt(idempotencyKeys.createdAt, sql`${new Date(now.getTime() - IDEMPOTENCY_RETENTION_MS).toISOString()}::timestamptz`))
    .returning({ key: idempotencyKeys.key });
  const logins = await ctx.store.db.delete(oidcLogins).where(lt(oidcLogins.expiresAt, sql`${now.toISOString()}::timestamptz`))
    .returning({ state: oidcLogins.state });
  const windows = await ctx.store.db.delete(writeRateLimits)
    .where(lt(writeRateLimits.windowStart, sql`${new Date(now.getTime() - RATE_WINDOW_RETENTION_MS).toISOString()}::timestamptz`))
    .returning({ budget: writeRateLimits.budget });
  const secrets = await ctx.store.db.update(webhookSubscriptions).set({ previousSecretCiphertext: null, previousSecretUntil: null })
    .where(lt(webhookSubscriptions.previousSecretUntil, sql`${now.toISOString()}::timestamptz`))
    .returning({ id: webhookSubscriptions.id });
  return { idempotencyKeys: keys.length, signIns: logins.length, rateWindows: windows.length, webhookSecrets: secrets.length };
};
