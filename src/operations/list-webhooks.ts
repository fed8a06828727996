import { asc, isNull, sql } from 'drizzle-orm';
import { z } from 'zod';
import { handlesById } from '../store/queries/identities.js';
import { webhookDeliveries, webhookSubscriptions } from '../store/schema-service.js';
import { keyLabelOf } from '../webhooks/crypto.js';
import type { WebhookEventType } from '../webhooks/events.js';
import { redactWebhookUrl } from '../webhooks/url.js';
import type { Context } from '../work/context.js';
import { parseInput } from './input.js';
import { authorize } from './authorize.js';

const Input = z.object({ includeDeleted: z.boolean().default(false) }).strict();

type Counts = { pending: number; delivered: number; failed: number };

/**
 * Subscriptions with their delivery counts; never the secret, not even encrypted, and the URL
 * redacted (a subscription made before URLs were encrypted keeps its URL in clear in the table).
 * `key` is the id of the webhook key its secret is encrypted under (`legacy`: stored before key
 * ids), so that after a rotation the subscriptions `webhook rekey` has not moved yet can be seen.
 */
export const listWebhooks = async (ctx: Context, input: z.input<typeof Input> = {}) => {
  const data = parseInput(Input, input);
  await authorize(ctx, 'webhook.manage');
  const exec = ctx.store.db;
  const rows = await exec.select({
    id: webhookSubscriptions.id, url: webhookSubscriptions.url, events: webhookSubscriptions.eventTypes,
    createdBy: webhookSubscriptions.createdBy, createdAt: webhookSubscriptions.createdAt, disabledAt: webhookSubscriptions.disabledAt,
    secretCiphertext: webhookSubscriptions.secretCiphertext,
  }).from(webhookSubscriptions)
    .where(data.includeDeleted ? undefined : isNull(webhookSubscriptions.disabledAt))
    .orderBy(asc(webhookSubscriptions.createdAt));
  const counts = await exec.select({
    subscriptionId: webhookDeliveries.subscriptionId, status: webhookDeliveries.status, n: sql<number>`count(*)::int`,
  }).from(webhookDeliveries).groupBy(webhookDeliveries.subscriptionId, webhookDeliveries.status);
  const bySubscription = new Map<string, Counts>();
  for (const c of counts) {
    const entry = bySubscription.get(c.subscriptionId) ?? { pending: 0, delivered: 0, failed: 0 };
    entry[c.status as keyof Counts] = Number(c.n);
    bySubscription.set(c.subscriptionId, entry);
  }
  const handles = await handlesById(exec, rows.map((r) => r.createdBy ?? ''));
  return rows.map(({ secretCiphertext, ...r }) => ({
    ...r, url: redactWebhookUrl(r.url), key: keyLabelOf(secretCiphertext), events: r.events as WebhookEventType[], createdBy: r.createdBy ? handles.get(r.createdBy) ?? r.createdBy : null,
    deliveries: bySubscription.get(r.id) ?? { pending: 0, delivered: 0, failed: 0 },
  }));
};
