import { and, eq } from 'drizzle-orm';
import { z } from 'zod';
import { TenureError } from '../domain/errors.js';
import { webhookDeliveries, webhookSubscriptions } from '../store/schema-service.js';
import type { WebhookEventType } from '../webhooks/events.js';
import { redactWebhookUrl } from '../webhooks/url.js';
import { authorize } from './authorize.js';
import { inTransaction, type Context } from '../work/context.js';
import { parseInput } from './input.js';

const Input = z.object({ webhook: z.uuid('must be a webhook subscription id') }).strict();

/**
 * Disables a subscription: it receives nothing more, and its deliveries still waiting are marked
 * failed so the log says why they never arrived. The row stays for the delivery log and the audit
 * trail. Deleting an already deleted subscription changes nothing and records nothing.
 */
export const deleteWebhook = async (ctx: Context, input: z.input<typeof Input>) => {
  const data = parseInput(Input, input);
  return inTransaction(ctx, async (work) => {
    await authorize(work, 'webhook.manage');
    const [row] = await work.tx.select().from(webhookSubscriptions).where(eq(webhookSubscriptions.id, data.webhook)).for('update');
    if (!row) throw new TenureError('webhook.not_found', `no webhook subscription '${data.webhook}'`, { field: 'webhook' });
    const summary = { id: row.id, url: redactWebhookUrl(row.url), events: row.eventTypes as WebhookEventType[] };
    if (row.disabledAt) return { ...summary, disabledAt: row.disabledAt, cancelledDeliveries: 0 };
    await work.tx.update(webhookSubscriptions).set({ disabledAt: work.now }).where(eq(webhookSubscriptions.id, row.id));
    const cancelled = await work.tx.update(webhookDeliveries)
      .set({ status: 'failed', lockedUntil: null, lastError: 'the subscription was deleted' })
      .where(and(eq(webhookDeliveries.subscriptionId, row.id), eq(webhookDeliveries.status, 'pending')))
      .returning({ id: webhookDeliveries.id });
    work.record({ action: 'webhook.deleted', subject: { type: 'webhook', id: row.id }, before: { url: summary.url, events: row.eventTypes } });
    return { ...summary, disabledAt: work.now, cancelledDeliveries: cancelled.length };
  });
};
