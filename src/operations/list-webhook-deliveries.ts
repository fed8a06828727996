import { and, asc, desc, eq, inArray, type SQL } from 'drizzle-orm';
import { z } from 'zod';
import { DELIVERY_STATUSES } from '../domain/webhooks.js';
import { webhookAttempts, webhookDeliveries } from '../store/schema-service.js';
import type { Context } from '../work/context.js';
import { parseInput } from './input.js';
import { authorize } from './authorize.js';

export const ListDeliveriesInput = z.object({
  subscription: z.uuid('must be a webhook subscription id').optional(),
  status: z.enum(DELIVERY_STATUSES).optional(),
  limit: z.number().int().min(1).max(1000).default(100),
}).strict();

/** The delivery log, newest first: each delivery with every attempt (time, HTTP status or error). */
export const listWebhookDeliveries = async (ctx: Context, input: z.input<typeof ListDeliveriesInput> = {}) => {
  const data = parseInput(ListDeliveriesInput, input);
  await authorize(ctx, 'webhook.manage');
  const exec = ctx.store.db;
  const filters: SQL[] = [];
  if (data.subscription) filters.push(eq(webhookDeliveries.subscriptionId, data.subscription));
  if (data.status) filters.push(eq(webhookDeliveries.status, data.status));
  const deliveries = await exec.select().from(webhookDeliveries).where(and(...filters))
    .orderBy(desc(webhookDeliveries.createdAt), desc(webhookDeliveries.eventKey)).limit(data.limit);
  const attempts = deliveries.length === 0 ? [] : await exec.select().from(webhookAttempts)
    .where(inArray(webhookAttempts.deliveryId, deliveries.map((d) => d.id))).orderBy(asc(webhookAttempts.attempt));
  return deliveries.map((d) => ({
    id: d.id, subscriptionId: d.subscriptionId, eventKey: d.eventKey, eventType: d.eventType, status: d.status,
    attempts: d.attempts, nextAttemptAt: d.status === 'pending' ? d.nextAttemptAt : null, lastError: d.lastError,
    deliveredAt: d.deliveredAt, createdAt: d.createdAt, payload: d.payload,
    log: attempts.filter((a) => a.deliveryId === d.id).map((a) => ({
      attempt: a.attempt, startedAt: a.startedAt, finishedAt: a.finishedAt, statusCode: a.statusCode, error: a.error,
    })),
  }));
};
