import { sql } from 'drizzle-orm';
import ms from 'ms';
import { inTransaction, type Context, type Work } from '../operations/context.js';
import { rawRows } from '../store/database.js';

export const DEFAULT_EXPIRY_NOTICE_MS = 72 * 3_600_000;

/** TENURE_WEBHOOK_EXPIRY_NOTICE (e.g. 72h, 3d); a value that is not a positive duration is refused at start. */
export const expiryNoticeFromEnv = (env: NodeJS.ProcessEnv): number => {
  const value = env.TENURE_WEBHOOK_EXPIRY_NOTICE;
  if (!value) return DEFAULT_EXPIRY_NOTICE_MS;
  const parsed = ms(value as ms.StringValue);
  if (typeof parsed !== 'number' || !Number.isFinite(parsed) || parsed <= 0) {
    throw new Error(`TENURE_WEBHOOK_EXPIRY_NOTICE: '${value}' is not a positive duration such as 72h or 3d`);
  }
  return parsed;
};

/**
 * Notices are written only while someone subscribes to them: `expiry_notice_at` means "the holder
 * was told", and with no subscriber nobody was. A subscriber that arrives later still gets notices
 * for grants that end inside the window from then on.
 */
const anyoneListens = async (ctx: Context): Promise<boolean> => {
  const rows = await rawRows<{ found: number }>(ctx.store.db, sql`
    SELECT 1 AS found FROM webhook_subscriptions
    WHERE disabled_at IS NULL AND event_types @> '["grant.expiring_soon"]'::jsonb LIMIT 1`);
  return rows.length > 0;
};

interface Noticed { id: string; identity_id: string; system_id: string; ends_at: Date | string }

/**
 * One batch: active grants ending within the window that have not had a notice for their current
 * end. A notice older than `end - window` was for an earlier end (the grant was extended since), so
 * the grant gets a new one. SKIP LOCKED: a grant being revoked or expired right now is left alone.
 */
const noticeBatch = async (work: Work, windowMs: number, limit: number): Promise<number> => {
  const now = work.now.toISOString();
  const horizon = new Date(work.now.getTime() + windowMs).toISOString();
  const rows = await rawRows<Noticed>(work.tx, sql`
    UPDATE grants g SET expiry_notice_at = ${now}::timestamptz
    FROM entitlements e, (
      SELECT id FROM grants
      WHERE status = 'active' AND ends_at > ${now}::timestamptz AND ends_at <= ${horizon}::timestamptz
        AND (expiry_notice_at IS NULL OR expiry_notice_at < ends_at - ${`${windowMs} milliseconds`}::interval)
      LIMIT ${limit} FOR UPDATE SKIP LOCKED) d
    WHERE g.id = d.id AND e.id = g.entitlement_id
    RETURNING g.id, g.identity_id, e.system_id, g.ends_at`);
  for (const row of rows) {
    work.record({ action: 'grant.expiring_soon', subject: { type: 'grant', id: row.id }, identityId: row.identity_id,
      systemId: row.system_id, after: { endsAt: new Date(row.ends_at).toISOString() } });
  }
  return rows.length;
};

/** Writes every notice due now, a batch per transaction (each with its audit events); returns how many. */
export const writeExpiryNotices = async (ctx: Context, windowMs = DEFAULT_EXPIRY_NOTICE_MS, batchSize = 1000): Promise<number> => {
  if (!(await anyoneListens(ctx))) return 0;
  let total = 0;
  for (;;) {
    const written = await inTransaction(ctx, (work) => noticeBatch(work, windowMs, batchSize));
    total += written;
    if (written < batchSize) return total;
  }
};
