/**
 * The mail outbox is filled from the audit log, as the webhook outbox is (webhooks/dispatch.ts): the
 * `mail` feed cursor is locked, the committed events past it become `mail_outbox` rows, and the
 * cursor moves in the same transaction. A crash repeats a batch whole or not at all, and the unique
 * (recipient, event key) refuses a second row for the same person and event whatever happens.
 */
import { sql } from 'drizzle-orm';
import { MAIL_EVENT_TYPES, MAIL_RULES, nextDigestAt } from '../domain/mail.js';
import { newId } from '../domain/ids.js';
import type { WebhookEventType } from '../domain/webhook-events.js';
import { rawRows, type Tx } from '../store/database.js';
import type { Context } from '../work/context.js';
import { readAuditRows } from '../webhooks/dispatch.js';
import { SOURCE_ACTIONS, webhookEventsOf, type AuditRow, type WebhookEvent } from '../webhooks/events.js';
import { recipientsOf, type Recipient } from './recipients.js';
import { renderMessage } from './render.js';

export const MAIL_CURSOR = 'mail';

const MAILED = new Set<string>(MAIL_EVENT_TYPES);
const ACTIONS = Object.keys(SOURCE_ACTIONS).filter((action) => SOURCE_ACTIONS[action]!.some((type) => MAILED.has(type)));

/** The console page where the person acts: a page of the web console, behind its sign-in. */
export const consoleLink = (publicUrl: string, type: WebhookEventType, data: Record<string, unknown>): string => {
  if (type === 'engagement.expiring_soon' && typeof data.engagementId === 'string') return `${publicUrl}/#/engagements/${encodeURIComponent(data.engagementId)}`;
  return `${publicUrl}/#/${MAIL_RULES[type]?.page ?? 'inbox'}`;
};

export const rowOf = (event: WebhookEvent, r: Recipient, publicUrl: string, now: Date) => {
  const { type, data, id: eventKey } = event.payload;
  const box = r.mailbox;
  const rendered = renderMessage({ type, data, link: consoleLink(publicUrl, type, data), greeting: (box ?? r.person).displayName,
    onBehalfOf: box && box.id !== r.person.id ? r.person.displayName : undefined })!;
  // The mailbox owner's choice decides: a sponsor who reads a digest gets their contractor's mail in it too.
  const digest = !!box && !r.urgent && box.mailDelivery === 'daily_digest';
  return {
    id: newId(), identity_id: r.person.id, address: box?.email ?? null, event_key: eventKey, kind: type, urgent: r.urgent,
    ...rendered, status: box ? 'pending' : 'no_address', digest,
    next_attempt_at: (digest ? nextDigestAt(now) : now).toISOString(),
  };
};

export const insertRows = async (tx: Tx, now: Date, rows: ReturnType<typeof rowOf>[]): Promise<number> => {
  if (rows.length === 0) return 0;
  const inserted = await rawRows<{ id: string }>(tx, sql`
    INSERT INTO mail_outbox (id, identity_id, address, event_key, kind, urgent, subject, text, html, status, digest, attempts, next_attempt_at, created_at)
    SELECT m.id, m.identity_id, m.address, m.event_key, m.kind, m.urgent, m.subject, m.text, m.html, m.status, m.digest, 0, m.next_attempt_at,
      ${now.toISOString()}::timestamptz
    FROM json_to_recordset(${JSON.stringify(rows)}::json) AS m(id uuid, identity_id uuid, address text, event_key text, kind text,
      urgent boolean, subject text, text text, html text, status text, digest boolean, next_attempt_at timestamptz)
    ON CONFLICT (identity_id, event_key) DO NOTHING
    RETURNING id`);
  return inserted.length;
};

/**
 * A grant given from a shared account's line is mailed once, as the person's turn
 * (`shared_account.turn`); its `grant.created` would say the same again as "Access granted".
 * Webhook subscribers get both: they are two events.
 */
const notToldByTurn = (row: AuditRow): boolean =>
  row.action !== 'grant.created' || (JSON.parse(row.canonical) as { after?: { fromLine?: boolean } }).after?.fromLine !== true;

export interface MailDispatchStep { advanced: number; written: number }

/**
 * One batch, in one transaction. With `enabled` false (no transport configured) the cursor skips
 * to the head: those events are not mailed, then or later, as webhooks are not for a subscriber
 * that did not exist yet.
 */
export const dispatchMailBatch = async (ctx: Context, options: { publicUrl: string; enabled: boolean; batchSize: number }): Promise<MailDispatchStep> =>
  ctx.store.db.transaction(async (tx) => {
    const [cursor] = await rawRows<{ seq: string | number }>(tx, sql`SELECT seq FROM feed_cursors WHERE name = ${MAIL_CURSOR} FOR UPDATE`);
    if (!cursor) throw new Error(`feed cursor '${MAIL_CURSOR}' is missing: the database was not migrated`);
    const [head] = await rawRows<{ seq: string | number }>(tx, sql`SELECT seq FROM audit_head WHERE id = 1`);
    const from = Number(cursor.seq);
    const upto = options.enabled ? Math.min(Number(head!.seq), from + options.batchSize) : Number(head!.seq);
    if (upto <= from) return { advanced: 0, written: 0 };
    let written = 0;
    if (options.enabled) {
      const now = ctx.clock.now();
      const events = await webhookEventsOf(tx, (await readAuditRows(tx, from, upto, ACTIONS)).filter(notToldByTurn), MAILED);
      const recipients = await recipientsOf(tx, events);
      written = await insertRows(tx, now, events.flatMap((event, i) => recipients[i]!.map((r) => rowOf(event, r, options.publicUrl, now))));
    }
    await tx.execute(sql`UPDATE feed_cursors SET seq = ${upto} WHERE name = ${MAIL_CURSOR}`);
    return { advanced: upto - from, written };
  });

/** Dispatches until the cursor reaches the audit head; returns the outbox rows written. */
export const dispatchMail = async (ctx: Context, options: { publicUrl: string; enabled: boolean; batchSize?: number }): Promise<number> => {
  let total = 0;
  for (;;) {
    const step = await dispatchMailBatch(ctx, { batchSize: 1000, ...options });
    total += step.written;
    if (step.advanced === 0) return total;
  }
};
