/**
 * Sends due mail from the outbox. A claim (one short transaction, SKIP LOCKED) counts the attempt
 * and locks the rows for `lockMs`; the SMTP conversation happens after that commit; once the server
 * has accepted the message the rows are marked sent.
 *
 * Delivery is AT LEAST ONCE. A worker that dies after the SMTP server accepted a message and before
 * the mark commits leaves the rows claimed; when the lock lapses another pass sends them again. The
 * repeat is the same message with the same Message-ID (`<batch id@host>`, fixed when the rows are
 * first claimed), so mail clients and servers that de-duplicate by Message-ID drop it, and a person
 * can tell it is a repeat. Losing mail (at most once) was the worse choice: a missed approval or
 * break-glass alert costs more than a duplicate. Outside that window nothing is sent twice: rows
 * are claimed by one sender at a time, and the mark applies only to the attempt that was claimed.
 */
import { sql } from 'drizzle-orm';
import { newId } from '../domain/ids.js';
import { rawRows, type Tx } from '../store/database.js';
import type { Context } from '../work/context.js';
import { backoffMs } from '../webhooks/deliver.js';
import { renderDigest, type Rendered } from './render.js';
import type { MailTransport } from './transport.js';

export interface SendOptions { lockMs: number; maxAttempts: number; batchSize: number; random: () => number }
export const SEND_DEFAULTS: SendOptions = { lockMs: 120_000, maxAttempts: 12, batchSize: 50, random: Math.random };

interface ClaimedRow { id: string; batch_id: string; address: string; attempts: number; digest: boolean; subject: string; text: string; html: string }

/** One message to send: one row, or a day's digest of several rows for one address. */
export interface Batch { batchId: string; address: string; rows: { id: string; attempts: number }[]; message: Rendered }

const due = (at: string) => sql`status = 'pending' AND next_attempt_at <= ${at}::timestamptz AND (locked_until IS NULL OR locked_until <= ${at}::timestamptz)`;

const claimImmediate = (tx: Tx, at: string, until: string, options: SendOptions) => rawRows<ClaimedRow>(tx, sql`
  UPDATE mail_outbox m SET attempts = m.attempts + 1, locked_until = ${until}::timestamptz, batch_id = coalesce(m.batch_id, m.id)
  FROM (SELECT id FROM mail_outbox WHERE ${due(at)} AND NOT digest AND attempts < ${options.maxAttempts}
        ORDER BY next_attempt_at LIMIT ${options.batchSize} FOR UPDATE SKIP LOCKED) d
  WHERE m.id = d.id
  RETURNING m.id, m.batch_id, m.address, m.attempts, m.digest, m.subject, m.text, m.html`);

/**
 * A digest is every due held row of one address. A transaction-scoped advisory lock per address
 * keeps two senders from splitting one address's rows; rows already given a batch by a sender that
 * died keep it, so their resend has the same Message-ID and the same content.
 */
const claimDigests = async (tx: Tx, at: string, until: string, options: SendOptions): Promise<ClaimedRow[]> => {
  const addresses = await rawRows<{ address: string }>(tx, sql`
    SELECT DISTINCT address FROM mail_outbox WHERE ${due(at)} AND digest AND attempts < ${options.maxAttempts} LIMIT ${options.batchSize}`);
  const claimed: ClaimedRow[] = [];
  for (const { address } of addresses) {
    const [lock] = await rawRows<{ ok: boolean }>(tx, sql`SELECT pg_try_advisory_xact_lock(hashtext('tenure.mail-digest'), hashtext(${address})) AS ok`);
    if (!lock?.ok) continue;
    claimed.push(...await rawRows<ClaimedRow>(tx, sql`
      UPDATE mail_outbox SET attempts = attempts + 1, locked_until = ${until}::timestamptz,
        batch_id = coalesce(batch_id, ${newId()}::uuid)
      WHERE ${due(at)} AND digest AND attempts < ${options.maxAttempts} AND address = ${address}
      RETURNING id, batch_id, address, attempts, digest, subject, text, html`));
  }
  return claimed;
};

const batchesOf = (rows: ClaimedRow[]): Batch[] => {
  const byBatch = new Map<string, ClaimedRow[]>();
  for (const row of rows) byBatch.set(row.batch_id, [...(byBatch.get(row.batch_id) ?? []), row]);
  return [...byBatch.entries()].map(([batchId, list]) => {
    const sorted = list.sort((a, b) => a.id.localeCompare(b.id));
    const message = sorted[0]!.digest ? renderDigest(sorted) : sorted[0]!;
    return { batchId, address: sorted[0]!.address, rows: sorted.map((r) => ({ id: r.id, attempts: r.attempts })),
      message: { subject: message.subject, text: message.text, html: message.html } };
  });
};

/** A row whose last allowed attempt was claimed by a sender that never reported back has no attempt left: it fails, visibly. */
const abandonExhausted = (tx: Tx, at: string, options: SendOptions) => tx.execute(sql`
  UPDATE mail_outbox SET status = 'failed', locked_until = NULL,
    last_error = 'the last attempt did not finish before its lock expired (the sender stopped?)'
  WHERE status = 'pending' AND attempts >= ${options.maxAttempts} AND locked_until <= ${at}::timestamptz`);

export const claimDueMail = async (ctx: Context, options: SendOptions): Promise<Batch[]> =>
  ctx.store.db.transaction(async (tx) => {
    const now = ctx.clock.now();
    const at = now.toISOString();
    const until = new Date(now.getTime() + options.lockMs).toISOString();
    await abandonExhausted(tx, at, options);
    return batchesOf([...await claimImmediate(tx, at, until, options), ...await claimDigests(tx, at, until, options)]);
  });

/** A 5xx answer is the server refusing this message for good (unknown mailbox, policy): no retry would change it. */
const permanent = (error: unknown): boolean => {
  const code = (error as { responseCode?: number }).responseCode;
  return typeof code === 'number' && code >= 500 && code < 600;
};

const reasonOf = (error: unknown): string => {
  const e = error as Error & { code?: string; responseCode?: number };
  return [e.code, e.responseCode, e.message].filter((p) => p !== undefined).join(' ').slice(0, 500);
};

/** Marks the rows of a batch, only those still at the attempt this sender claimed (a sender that outlived its lock changes nothing). */
const record = async (ctx: Context, batch: Batch, error: unknown, options: SendOptions): Promise<void> => {
  const now = ctx.clock.now();
  const claimed = JSON.stringify(batch.rows);
  const attempt = Math.max(...batch.rows.map((r) => r.attempts));
  const giveUp = error !== undefined && (permanent(error) || attempt >= options.maxAttempts);
  const next = new Date(now.getTime() + backoffMs(attempt, options.random)).toISOString();
  const mine = sql`(id, attempts) IN (SELECT c.id, c.attempts FROM json_to_recordset(${claimed}::json) AS c(id uuid, attempts int)) AND status = 'pending'`;
  await ctx.store.db.execute(error === undefined
    ? sql`UPDATE mail_outbox SET status = 'sent', sent_at = ${now.toISOString()}::timestamptz, locked_until = NULL, last_error = NULL WHERE ${mine}`
    : sql`UPDATE mail_outbox SET status = ${giveUp ? 'failed' : 'pending'}, next_attempt_at = ${next}::timestamptz, locked_until = NULL,
            last_error = ${reasonOf(error)} WHERE ${mine}`);
};

export interface Sender {
  transport: MailTransport;
  from: string;
  /** The right-hand side of Message-IDs: the console's host name. */
  messageHost: string;
  /** Called once the server accepted a message, before it is marked sent: where crash tests put their failpoint. */
  afterAccepted?: () => void;
}

export interface SendResult { sent: number; failed: number }

/** Sends every due message, batch by batch, one at a time per process: SMTP servers throttle bursts anyway. */
export const sendDueMail = async (ctx: Context, sender: Sender, overrides: Partial<SendOptions> = {}): Promise<SendResult> => {
  const options = { ...SEND_DEFAULTS, ...overrides };
  const { transport, from, messageHost } = sender;
  const result: SendResult = { sent: 0, failed: 0 };
  for (;;) {
    const batches = await claimDueMail(ctx, options);
    for (const batch of batches) {
      let error: unknown;
      try {
        await transport.send({ from, to: batch.address, ...batch.message, messageId: `<${batch.batchId}@${messageHost}>` });
        sender.afterAccepted?.();
      } catch (e) {
        error = e;
      }
      await record(ctx, batch, error, options);
      if (error === undefined) result.sent += 1; else result.failed += 1;
    }
    if (batches.length === 0) return result;
  }
};
