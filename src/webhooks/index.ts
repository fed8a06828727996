import type { Context } from '../work/context.js';
import type { WebhookKeyRing } from './crypto.js';
import { loadWebhookKeyRing } from './key-ring.js';
import { deliverDue, type DeliverOptions } from './deliver.js';
import { dispatchPending } from './dispatch.js';
import { DEFAULT_EXPIRY_NOTICES_MS, expiryNoticesFromEnv, writeExpiryNotices } from './expiry-notices.js';

export { WEBHOOK_EVENT_TYPES, type WebhookEventType } from './events.js';
export type { WebhookKey, WebhookKeyRing } from './crypto.js';
export { loadWebhookKeyRing } from './key-ring.js';
export { signatureHeader, verifySignature } from './signature.js';

export interface WebhookTickOptions {
  /** The key ring. Without one nothing can be signed: deliveries wait (they are still written to the outbox). */
  key?: WebhookKeyRing | undefined;
  /** How long before an end each reminder goes out (default 14 days and 1 day). */
  expiryNoticesMs?: number[];
  /** Mail is on, so expiry notices are written even without a webhook subscriber (mail tells people of them). */
  mailListens?: boolean;
  dispatchBatchSize?: number;
  delivery?: Partial<DeliverOptions>;
}

export interface WebhookTickResult {
  /** Grants and engagements that got an `*.expiring_soon` audit event. */
  notices: number;
  /** Deliveries written to the outbox. */
  dispatched: number;
  /** Attempts that got a 2xx. */
  delivered: number;
  /** Attempts that did not (each retried later, or given up after the last attempt). */
  failed: number;
}

/**
 * One pass: expiry notices first (their audit events are then dispatched in the same pass), then
 * the audit log past the cursor becomes deliveries, then due deliveries are attempted. Safe in
 * several processes at once: dispatch serialises on the cursor row, deliveries are claimed SKIP LOCKED.
 */
export const runWebhookTick = async (ctx: Context, options: WebhookTickOptions = {}): Promise<WebhookTickResult> => {
  const notices = await writeExpiryNotices(ctx, options.expiryNoticesMs ?? DEFAULT_EXPIRY_NOTICES_MS, 1000, options.mailListens);
  const dispatched = await dispatchPending(ctx, options.dispatchBatchSize);
  const attempted = options.key ? await deliverDue(ctx, options.key, options.delivery) : { delivered: 0, failed: 0 };
  return { notices, dispatched, delivered: attempted.delivered, failed: attempted.failed };
};

/**
 * Tick options from the environment: the key ring (see loadWebhookKeyRing) and TENURE_WEBHOOK_EXPIRY_NOTICE.
 * The worker only reads the key, never creates it: creating a subscription does that on the embedded
 * default, so an installation without webhooks gets no key file. Cheap enough to call every tick,
 * which also picks up a key created after the worker started.
 */
export const webhookTickOptions = (source: { env: NodeJS.ProcessEnv; dataDir: string }): WebhookTickOptions => ({
  key: loadWebhookKeyRing({ env: source.env, dataDir: source.dataDir, create: false }),
  expiryNoticesMs: expiryNoticesFromEnv(source.env),
});
