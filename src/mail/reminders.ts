/**
 * Reminders, written straight to the outbox: a reminder is the passing of time, not a change of
 * state, so it has no audit event; its event key makes it once per stage (or review item) and
 * recipient whatever process runs it.
 * - Approvers of a stage that has waited longer than `waitMs` (the policy's approval.remind_after,
 *   one day by default): once per stage, to whoever may decide it now (`reminder:<request>:<stage>`).
 * - The reviewer of an undecided review item whose campaign is due within `beforeDueMs`
 *   (the policy's reviews.remind_before, two days by default): once per item (`review-reminder:<item>`), so that the
 *   campaign's default (keep or revoke) is not what decides it.
 */
import { sql } from 'drizzle-orm';
import { rawRows } from '../store/database.js';
import type { Context } from '../work/context.js';
import type { WebhookEvent } from '../webhooks/events.js';
import { loadReviewItems } from '../webhooks/review-events.js';
import { insertRows, rowOf } from './dispatch.js';
import { recipientsOf } from './recipients.js';

interface Waiting {
  request_id: string; position: number; since: Date | string; approvers: string[]; requester: string; beneficiary: string;
  entitlement: string; system: string; justification: string; ticket: string | null; starts_at: Date | string | null; ends_at: Date | string | null;
}

const iso = (value: Date | string | null) => (value === null ? null : new Date(value).toISOString());

/** Pending requests whose first pending stage has waited past `waitMs`, with who may decide it now (request_current_approvers). */
const waitingStages = (ctx: Context, before: string, limit: number) => rawRows<Waiting>(ctx.store.db, sql`
  WITH current AS (
    SELECT r.id AS request_id, min(s.position) AS position FROM access_requests r
    JOIN request_stages s ON s.request_id = r.id AND s.status = 'pending'
    WHERE r.status = 'pending' GROUP BY r.id),
  waiting AS (
    SELECT c.*, coalesce((SELECT max(p.decided_at) FROM request_stages p WHERE p.request_id = c.request_id AND p.position < c.position),
      r.created_at) AS since
    FROM current c JOIN access_requests r ON r.id = c.request_id)
  SELECT w.request_id, w.position, w.since, r.justification, r.ticket, r.starts_at, r.ends_at,
    b.handle AS beneficiary, q.handle AS requester, e.key AS entitlement, y.key AS system,
    (SELECT json_agg(i.handle) FROM request_current_approvers a JOIN identities i ON i.id = a.identity_id WHERE a.request_id = w.request_id) AS approvers
  FROM waiting w JOIN access_requests r ON r.id = w.request_id
  JOIN identities b ON b.id = r.beneficiary_id JOIN identities q ON q.id = r.requester_id
  JOIN entitlements e ON e.id = r.entitlement_id JOIN systems y ON y.id = e.system_id
  WHERE w.since <= ${before}::timestamptz
    AND NOT EXISTS (SELECT 1 FROM mail_outbox m WHERE m.event_key = 'reminder:' || w.request_id || ':' || w.position)
  LIMIT ${limit}`);

/** Writes the reminders due now; returns how many outbox rows. */
export const writeApprovalReminders = async (ctx: Context, options: { waitMs: number; publicUrl: string; batchSize?: number }): Promise<number> => {
  const now = ctx.clock.now();
  const stages = await waitingStages(ctx, new Date(now.getTime() - options.waitMs).toISOString(), options.batchSize ?? 500);
  const events: WebhookEvent[] = stages.filter((s) => (s.approvers ?? []).length > 0).map((s) => ({ seq: 0, payload: {
    id: `reminder:${s.request_id}:${s.position}`, type: 'approval.needed', occurredAt: now.toISOString(),
    data: { requestId: s.request_id, requester: s.requester, beneficiary: s.beneficiary, entitlement: s.entitlement, system: s.system,
      justification: s.justification, ticket: s.ticket, startsAt: iso(s.starts_at), endsAt: iso(s.ends_at), approvers: s.approvers,
      waitingSince: iso(s.since) },
  } }));
  if (events.length === 0) return 0;
  return ctx.store.db.transaction(async (tx) => {
    const recipients = await recipientsOf(tx, events);
    return insertRows(tx, now, events.flatMap((event, i) => recipients[i]!.map((r) => rowOf(event, r, options.publicUrl, now))));
  });
};

/** Undecided items of open campaigns due by `horizon`, not reminded yet. */
const itemsDueSoon = (ctx: Context, now: string, horizon: string, limit: number) => rawRows<{ id: string }>(ctx.store.db, sql`
  SELECT i.id FROM review_items i JOIN review_campaigns c ON c.id = i.campaign_id
  WHERE c.status = 'open' AND i.status = 'pending' AND c.due_at > ${now}::timestamptz AND c.due_at <= ${horizon}::timestamptz
    AND NOT EXISTS (SELECT 1 FROM mail_outbox m WHERE m.event_key = 'review-reminder:' || i.id)
  LIMIT ${limit}`);

/** Writes the review reminders due now (the item's own data, as on assignment, marked a reminder); returns how many outbox rows. */
export const writeReviewReminders = async (ctx: Context, options: { beforeDueMs: number; publicUrl: string; batchSize?: number }): Promise<number> => {
  const now = ctx.clock.now();
  const due = await itemsDueSoon(ctx, now.toISOString(), new Date(now.getTime() + options.beforeDueMs).toISOString(), options.batchSize ?? 500);
  if (due.length === 0) return 0;
  const items = await loadReviewItems(ctx.store.db, due.map((d) => d.id));
  const events: WebhookEvent[] = [...items].map(([id, data]) => ({ seq: 0, payload: {
    id: `review-reminder:${id}`, type: 'review.item_assigned', occurredAt: now.toISOString(), data: { ...data, reminder: true },
  } }));
  return ctx.store.db.transaction(async (tx) => {
    const recipients = await recipientsOf(tx, events);
    return insertRows(tx, now, events.flatMap((event, i) => recipients[i]!.map((r) => rowOf(event, r, options.publicUrl, now))));
  });
};
