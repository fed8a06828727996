import { eq } from 'drizzle-orm';
import { z } from 'zod';
import { formatDuration } from '../domain/durations.js';
import { TenureError } from '../domain/errors.js';
import { webhookSubscriptions } from '../store/schema-service.js';
import { decryptSecret, encryptSecret, newWebhookSecret, previousSecretContext, type WebhookKeyRing } from '../webhooks/crypto.js';
import { redactWebhookUrl } from '../webhooks/url.js';
import { authorize } from './authorize.js';
import { inTransaction, type Context } from '../work/context.js';
import { duration, parseInput } from './input.js';

/** A week: long enough for a receiver's change window, short enough that a replaced secret does not linger as a second key. */
export const MAX_OVERLAP_MS = 7 * 86_400_000;
export const DEFAULT_OVERLAP_MS = 86_400_000;

/** What the caller chooses (the body); the subscription is named apart, as the route takes it from its path. */
export const RotateWebhookSecretOptions = z.object({
  overlap: duration.refine((ms) => ms <= MAX_OVERLAP_MS, `must be at most ${formatDuration(MAX_OVERLAP_MS)}`).optional()
    .describe(`how long deliveries are signed with the old secret too (default ${formatDuration(DEFAULT_OVERLAP_MS)}, at most ${formatDuration(MAX_OVERLAP_MS)})`),
  immediately: z.boolean().default(false)
    .describe('the old secret leaked: stop signing with it now (receivers still on it refuse deliveries until they switch)'),
}).strict();

const Subscription = z.object({ webhook: z.uuid('must be a webhook subscription id') });

/**
 * Gives a subscription a new signing secret, returned here once. Until the overlap ends each
 * delivery carries two signatures, one per secret (Standard Webhooks lists several in
 * `webhook-signature`; the deprecated Tenure-Signature several `v1=`), so a receiver can swap its
 * secret at any moment in that window without refusing a delivery. Only the secret this rotation
 * replaced is kept: rotating again inside the window drops the one before it, as it should, since
 * a second rotation usually means the first new secret went astray. The row is locked so two
 * rotations at once queue, and the second keeps the first one's secret as its previous one, not the
 * older secret. Neither secret is in the answer's audit event or any listing.
 */
export const rotateWebhookSecret = async (
  ctx: Context, webhook: string, options: z.input<typeof RotateWebhookSecretOptions>, key: WebhookKeyRing | undefined,
) => {
  const data = { ...parseInput(Subscription, { webhook }), ...parseInput(RotateWebhookSecretOptions, options) };
  if (data.immediately && data.overlap !== undefined) {
    throw new TenureError('input.invalid', 'overlap: cannot be given with immediately: true (there is no overlap)', { field: 'overlap' });
  }
  return inTransaction(ctx, async (work) => {
    await authorize(work, 'webhook.manage');
    if (!key) throw new TenureError('webhook.key_missing', 'no webhook key: set TENURE_WEBHOOK_KEY or TENURE_WEBHOOK_KEY_FILE');
    const [row] = await work.tx.select().from(webhookSubscriptions).where(eq(webhookSubscriptions.id, data.webhook)).for('no key update');
    if (!row) throw new TenureError('webhook.not_found', `no webhook subscription '${data.webhook}'`, { field: 'webhook' });
    if (row.disabledAt) throw new TenureError('webhook.disabled', `webhook subscription '${row.id}' was deleted`, { field: 'webhook' });
    const overlapMs = data.immediately ? 0 : data.overlap ?? DEFAULT_OVERLAP_MS;
    const until = overlapMs > 0 ? new Date(work.now.getTime() + overlapMs) : null;
    // Decrypted to re-encrypt under its own context: also proves the old secret is still readable.
    const previous = until ? encryptSecret(key, decryptSecret(key, row.secretCiphertext, row.id), previousSecretContext(row.id)) : null;
    const secret = newWebhookSecret();
    await work.tx.update(webhookSubscriptions).set({
      secretCiphertext: encryptSecret(key, secret, row.id), previousSecretCiphertext: previous, previousSecretUntil: until,
    }).where(eq(webhookSubscriptions.id, row.id));
    work.record({
      action: 'webhook.secret_rotated', subject: { type: 'webhook', id: row.id },
      after: { url: redactWebhookUrl(row.url), overlapEndsAt: until?.toISOString() ?? null },
    });
    return { id: row.id, url: redactWebhookUrl(row.url), rotatedAt: work.now, overlapEndsAt: until, secret };
  });
};
