import { sql } from 'drizzle-orm';
import { durationSetting } from '../domain/durations.js';
import { inTransaction, type Context, type Work } from '../work/context.js';
import { rawRows } from '../store/database.js';

/** Reminders before a grant, an engagement or a vendor's contract ends: two weeks ahead (time to renew), and the day before. */
export const DEFAULT_EXPIRY_NOTICES_MS = [14 * 86_400_000, 86_400_000];

/**
 * TENURE_WEBHOOK_EXPIRY_NOTICE: one duration or a comma-separated list (`14d,1d`, `72h`); each is a
 * reminder that long before the end. A value that is not a positive duration is refused at start.
 */
export const expiryNoticesFromEnv = (env: NodeJS.ProcessEnv): number[] => {
  const value = env.TENURE_WEBHOOK_EXPIRY_NOTICE;
  if (!value) return DEFAULT_EXPIRY_NOTICES_MS;
  return value.split(',').map((part) => durationSetting('TENURE_WEBHOOK_EXPIRY_NOTICE', part));
};

type Kind = 'grant' | 'engagement' | 'vendor';

/**
 * Notices are written only while someone listens: a webhook subscriber, or mail when it is on.
 * `expiry_notice_at` means "they were told", and with no listener nobody was. A subscriber that arrives later still gets reminders
 * for ends that come inside a window from then on.
 */
const anyoneListens = async (ctx: Context, kind: Kind, mailListens: boolean): Promise<boolean> => {
  // Mail tells the holder of a grant and the sponsor of an engagement (domain/mail.ts), not a vendor's owner.
  if (mailListens && kind !== 'vendor') return true;
  const rows = await rawRows<{ found: number }>(ctx.store.db, sql`
    SELECT 1 AS found FROM webhook_subscriptions
    WHERE disabled_at IS NULL AND event_types @> ${JSON.stringify([`${kind}.expiring_soon`])}::jsonb LIMIT 1`);
  return rows.length > 0;
};

interface Noticed { id: string; identity_id: string; system_id: string | null; ends_at: Date | string }

/**
 * One batch of one reminder: live grants (or active engagements) ending within `windowMs` that have
 * not been reminded since `end - window`. An older notice was an earlier, longer reminder (or for an
 * earlier end, before an extension), so this one is due; a newer one was this reminder or a shorter
 * one, so it is not. SKIP LOCKED: a row being revoked or ended right now is left alone.
 */
const noticeBatch = async (work: Work, kind: Kind, windowMs: number, limit: number): Promise<number> => {
  const now = work.now.toISOString();
  const horizon = new Date(work.now.getTime() + windowMs).toISOString();
  const end = sql.raw(kind === 'vendor' ? 'contract_end' : 'ends_at');
  const due = sql`${end} > ${now}::timestamptz AND ${end} <= ${horizon}::timestamptz
        AND (expiry_notice_at IS NULL OR expiry_notice_at < ${end} - ${`${windowMs} milliseconds`}::interval)`;
  const rows = kind === 'vendor'
    // A vendor's reminder goes to its relationship owner: the person who renews the contract or lets it end.
    ? await rawRows<Noticed>(work.tx, sql`
      UPDATE vendors v SET expiry_notice_at = ${now}::timestamptz
      FROM (SELECT id FROM vendors WHERE end_applied_at IS NULL AND ${due} LIMIT ${limit} FOR UPDATE SKIP LOCKED) d
      WHERE v.id = d.id
      RETURNING v.id, v.relationship_owner_id AS identity_id, NULL AS system_id, v.contract_end AS ends_at`)
    : kind === 'grant'
    ? await rawRows<Noticed>(work.tx, sql`
      UPDATE grants g SET expiry_notice_at = ${now}::timestamptz
      FROM entitlements e, (SELECT id FROM grants WHERE status = 'active' AND ${due} LIMIT ${limit} FOR UPDATE SKIP LOCKED) d
      WHERE g.id = d.id AND e.id = g.entitlement_id
      RETURNING g.id, g.identity_id, e.system_id, g.ends_at`)
    : await rawRows<Noticed>(work.tx, sql`
      UPDATE engagements g SET expiry_notice_at = ${now}::timestamptz
      FROM (SELECT id FROM engagements WHERE status = 'active' AND ${due} LIMIT ${limit} FOR UPDATE SKIP LOCKED) d
      WHERE g.id = d.id
      RETURNING g.id, g.identity_id, NULL AS system_id, g.ends_at`);
  for (const row of rows) {
    work.record({ action: `${kind}.expiring_soon`, subject: { type: kind, id: row.id }, identityId: row.identity_id,
      systemId: row.system_id, after: { endsAt: new Date(row.ends_at).toISOString(), noticeBeforeMs: windowMs } });
  }
  return rows.length;
};

/**
 * Writes every reminder due now, shortest window first (a grant made with hours left gets the
 * day-before reminder and not the two-week one), a batch per transaction; returns how many.
 */
export const writeExpiryNotices = async (ctx: Context, windowsMs = DEFAULT_EXPIRY_NOTICES_MS, batchSize = 1000, mailListens = false): Promise<number> => {
  let total = 0;
  for (const kind of ['grant', 'engagement', 'vendor'] as const) {
    if (!(await anyoneListens(ctx, kind, mailListens))) continue;
    for (const windowMs of [...windowsMs].sort((a, b) => a - b)) {
      for (;;) {
        const written = await inTransaction(ctx, (work) => noticeBatch(work, kind, windowMs, batchSize));
        total += written;
        if (written < batchSize) break;
      }
    }
  }
  return total;
};
