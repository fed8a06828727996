import { sql } from 'drizzle-orm';
import { newId } from '../domain/ids.js';
import type { Context } from '../work/context.js';
import { rawRows, type Tx } from '../store/database.js';
import { SOURCE_ACTIONS, webhookEventsOf, type AuditRow, type WebhookEvent } from './events.js';

export const FEED_CURSOR = 'webhooks';

interface Subscription { id: string; eventTypes: string[]; since: number }

/**
 * Enabled subscriptions with the sequence number of their own `webhook.created` event: a subscription
 * receives only events committed after it (seq order is commit order), whatever the clocks say.
 */
const enabledSubscriptions = async (tx: Tx): Promise<Subscription[]> => {
  const rows = await rawRows<{ id: string; event_types: string[]; since: string | number }>(tx, sql`
    SELECT s.id, s.event_types, a.seq AS since
    FROM webhook_subscriptions s
    JOIN audit_events a ON a.action = 'webhook.created' AND a.subject_type = 'webhook' AND a.subject_id = s.id::text
    WHERE s.disabled_at IS NULL`);
  return rows.map((r) => ({ id: r.id, eventTypes: r.event_types, since: Number(r.since) }));
};

/** Committed audit rows in (after, upto] with one of `actions`; the mail dispatcher reads the log the same way. */
export const readAuditRows = async (tx: Tx, after: number, upto: number, actions: string[]): Promise<AuditRow[]> => {
  if (actions.length === 0) return [];
  const rows = await rawRows<{ seq: string | number; occurred_at: Date | string; action: string; subject_id: string; canonical: string }>(tx, sql`
    SELECT seq, occurred_at, action, subject_id, canonical FROM audit_events
    WHERE seq > ${after} AND seq <= ${upto}
      AND action IN (SELECT value FROM json_array_elements_text(${JSON.stringify(actions)}::json))
    ORDER BY seq`);
  return rows.map((r) => ({ seq: Number(r.seq), occurredAt: new Date(r.occurred_at), action: r.action, subjectId: r.subject_id, canonical: r.canonical }));
};

/** One INSERT of a JSON array: a batch can fan out to thousands of deliveries. */
const insertDeliveries = async (tx: Tx, now: Date, events: WebhookEvent[], subscriptions: Subscription[]): Promise<number> => {
  const rows = events.flatMap((event) => subscriptions
    .filter((s) => s.since < event.seq && s.eventTypes.includes(event.payload.type))
    .map((s) => ({ id: newId(), subscription_id: s.id, event_key: event.payload.id, event_type: event.payload.type, payload: event.payload })));
  if (rows.length === 0) return 0;
  // ON CONFLICT: the cursor moves in the same transaction, so a conflict means a bug, never a lost
  // delivery; refusing the duplicate keeps one delivery per (subscription, event) regardless.
  const inserted = await rawRows<{ id: string }>(tx, sql`
    INSERT INTO webhook_deliveries (id, subscription_id, event_key, event_type, payload, status, attempts, next_attempt_at, created_at)
    SELECT d.id, d.subscription_id, d.event_key, d.event_type, d.payload, 'pending', 0, ${now.toISOString()}::timestamptz, ${now.toISOString()}::timestamptz
    FROM json_to_recordset(${JSON.stringify(rows)}::json) AS d(id uuid, subscription_id uuid, event_key text, event_type text, payload jsonb)
    ON CONFLICT (subscription_id, event_key) DO NOTHING
    RETURNING id`);
  return inserted.length;
};

export interface DispatchStep { advanced: number; dispatched: number }

/**
 * Turns the next batch of committed audit events into outbox rows, in one transaction. The cursor
 * row lock serialises dispatchers across processes; the cursor moves in the same commit as the
 * deliveries it accounts for, so a crash repeats a batch whole or not at all. Only events up to the
 * audit head read here are taken: seq is assigned under the head lock, so every event up to a
 * committed head is itself committed, and the cursor never passes an event still in flight.
 */
export const dispatchBatch = async (ctx: Context, batchSize: number): Promise<DispatchStep> =>
  ctx.store.db.transaction(async (tx) => {
    const [cursor] = await rawRows<{ seq: string | number }>(tx, sql`SELECT seq FROM feed_cursors WHERE name = ${FEED_CURSOR} FOR UPDATE`);
    if (!cursor) throw new Error(`feed cursor '${FEED_CURSOR}' is missing: the database was not migrated`);
    const [head] = await rawRows<{ seq: string | number }>(tx, sql`SELECT seq FROM audit_head WHERE id = 1`);
    const from = Number(cursor.seq);
    // Subscriptions are read after the head: one committed later has a creation seq past the head
    // and so wants nothing from this batch, which lets a batch with no subscriber skip to the head.
    const subscriptions = await enabledSubscriptions(tx);
    const upto = subscriptions.length === 0 ? Number(head!.seq) : Math.min(Number(head!.seq), from + batchSize);
    if (upto <= from) return { advanced: 0, dispatched: 0 };
    let dispatched = 0;
    if (subscriptions.length > 0) {
      const wanted = new Set(subscriptions.flatMap((s) => s.eventTypes));
      const actions = Object.keys(SOURCE_ACTIONS).filter((action) => SOURCE_ACTIONS[action]!.some((type) => wanted.has(type)));
      const events = await webhookEventsOf(tx, await readAuditRows(tx, from, upto, actions), wanted);
      dispatched = await insertDeliveries(tx, ctx.clock.now(), events, subscriptions);
    }
    await tx.execute(sql`UPDATE feed_cursors SET seq = ${upto} WHERE name = ${FEED_CURSOR}`);
    return { advanced: upto - from, dispatched };
  });

/** Dispatches until the cursor reaches the audit head; returns the deliveries created. */
export const dispatchPending = async (ctx: Context, batchSize = 1000): Promise<number> => {
  let total = 0;
  for (;;) {
    const step = await dispatchBatch(ctx, batchSize);
    total += step.dispatched;
    if (step.advanced === 0) return total;
  }
};
