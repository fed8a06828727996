import { z } from 'zod';
import { TenureError } from '../domain/errors.js';
import { newId } from '../domain/ids.js';
import { webhookSubscriptions } from '../store/schema-service.js';
import { encryptSecret, newWebhookSecret, urlContext, type WebhookKeyRing } from '../webhooks/crypto.js';
import { WEBHOOK_EVENT_TYPES } from '../webhooks/events.js';
import { redactWebhookUrl, webhookUrl } from '../webhooks/url.js';
import { authorize } from './authorize.js';
import { inTransaction, type Context } from '../work/context.js';
import { parseInput } from './input.js';

export const CreateWebhookInput = z.object({
  url: webhookUrl,
  events: z.array(z.enum(WEBHOOK_EVENT_TYPES)).min(1, 'must name at least one event type')
    .transform((events) => [...new Set(events)]),
}).strict();

/**
 * Subscribes a URL to event types. The signing secret is returned here and nowhere else: the table
 * keeps it encrypted under the current key of the webhook key ring (see loadWebhookKeyRing). The full URL, which may carry a
 * receiver's credential in its path or query, is encrypted the same way and shown nowhere, this
 * answer and the audit event included: they carry the redacted URL and the types only. The
 * subscription receives events committed after it, not earlier ones.
 */
export const createWebhook = async (ctx: Context, input: z.input<typeof CreateWebhookInput>, key: WebhookKeyRing | undefined) => {
  const data = parseInput(CreateWebhookInput, input);
  return inTransaction(ctx, async (work) => {
    const acting = await authorize(work, 'webhook.manage');
    if (!key) {
      throw new TenureError('webhook.key_missing',
        'no webhook key: set TENURE_WEBHOOK_KEY (32 bytes, base64) or TENURE_WEBHOOK_KEY_FILE; with a database server Tenure does not create one');
    }
    const id = newId();
    const secret = newWebhookSecret();
    const shown = redactWebhookUrl(data.url);
    await work.tx.insert(webhookSubscriptions).values({
      id, url: shown, urlCiphertext: encryptSecret(key, data.url, urlContext(id)), eventTypes: data.events,
      secretCiphertext: encryptSecret(key, secret, id), createdBy: acting.identity.id, createdAt: work.now,
    });
    work.record({ action: 'webhook.created', subject: { type: 'webhook', id }, after: { url: shown, events: data.events } });
    return { id, url: shown, events: data.events, createdAt: work.now, secret };
  });
};
