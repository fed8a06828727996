import { asc, eq, gt } from 'drizzle-orm';
import { z } from 'zod';
import { TenureError } from '../domain/errors.js';
import { webhookSubscriptions } from '../store/schema-service.js';
import { decryptSecret, encryptSecret, keyLabelOf, previousSecretContext, urlContext, type WebhookKeyRing } from '../webhooks/crypto.js';
import { authorize } from './authorize.js';
import { inTransaction, type Context, type Work } from '../work/context.js';
import { parseInput } from './input.js';

export const RekeyWebhooksInput = z.object({
  check: z.boolean().default(false).describe('report which key each subscription is under, change nothing'),
  batchSize: z.number().int().min(1).max(1000).default(100),
}).strict();

export interface RekeyReport {
  check: boolean;
  /** The key new values are encrypted under, and every key of the ring (ids only, never key material). */
  currentKey: string;
  keys: string[];
  /** Subscriptions (deleted ones too: they keep their ciphertexts) by the key their secret was under before this run. */
  before: Record<string, number>;
  /** Moved to the current key (with `check`: would be). */
  rekeyed: number;
  alreadyCurrent: number;
  /** Left unchanged because they do not decrypt with the ring (checked on every row); the reason names a key id, never a secret. */
  failed: { id: string; error: string }[];
}

type Row = { id: string; secretCiphertext: string; urlCiphertext: string | null; previousSecretCiphertext: string | null };

const isCurrent = (ring: WebhookKeyRing, row: Row): boolean =>
  [row.secretCiphertext, row.urlCiphertext, row.previousSecretCiphertext].every((v) => v === null || keyLabelOf(v) === ring.current.kid);

/**
 * Every value decrypted (so a row under the current key is verified too, not just counted), and
 * re-encrypted under the current key; or the reason they do not decrypt.
 */
const reencrypt = (ring: WebhookKeyRing, row: Row): Omit<Row, 'id'> | { error: string } => {
  const again = (stored: string | null, context: string) => (stored === null ? null : encryptSecret(ring, decryptSecret(ring, stored, context), context));
  try {
    return {
      secretCiphertext: again(row.secretCiphertext, row.id)!,
      // A subscription made before URLs were encrypted has none: its URL stays where it is.
      urlCiphertext: again(row.urlCiphertext, urlContext(row.id)),
      // The secret a rotation replaced, even past its overlap: housekeeping clears it, the rekey only moves it.
      previousSecretCiphertext: again(row.previousSecretCiphertext, previousSecretContext(row.id)),
    };
  } catch (error) {
    return { error: (error as Error).message };
  }
};

/**
 * One batch, in key order after `after`, row-locked: a concurrent rekey waits and then reads the
 * rows this one wrote (already current: skipped, so each row is rekeyed once), and an edit or delete
 * of a row waits rather than being overwritten by a re-encryption of the value it replaced. The lock
 * is FOR NO KEY UPDATE, what the UPDATE would take anyway (the id does not change): unlike FOR UPDATE
 * it does not block the dispatcher inserting deliveries that reference these rows (their foreign key
 * takes FOR KEY SHARE), so it cannot deadlock with it. Deliveries read subscriptions unlocked: they
 * get the old or the new ciphertext, and either decrypts, since the ring holds both keys.
 * A dry run (`check`) locks nothing and writes nothing.
 */
const rekeyBatch = async (work: Work, ring: WebhookKeyRing, after: string, data: z.infer<typeof RekeyWebhooksInput>, report: RekeyReport) => {
  const query = work.tx.select({
    id: webhookSubscriptions.id, secretCiphertext: webhookSubscriptions.secretCiphertext, urlCiphertext: webhookSubscriptions.urlCiphertext,
    previousSecretCiphertext: webhookSubscriptions.previousSecretCiphertext,
  }).from(webhookSubscriptions).where(gt(webhookSubscriptions.id, after)).orderBy(asc(webhookSubscriptions.id)).limit(data.batchSize);
  const rows: Row[] = data.check ? await query : await query.for('no key update');
  for (const row of rows) {
    const was = keyLabelOf(row.secretCiphertext);
    report.before[was] = (report.before[was] ?? 0) + 1;
    const next = reencrypt(ring, row);
    if ('error' in next) { report.failed.push({ id: row.id, error: next.error }); continue; }
    if (isCurrent(ring, row)) { report.alreadyCurrent += 1; continue; }
    report.rekeyed += 1;
    if (data.check) continue;
    await work.tx.update(webhookSubscriptions).set(next).where(eq(webhookSubscriptions.id, row.id));
    work.record({ action: 'webhook.rekeyed', subject: { type: 'webhook', id: row.id }, before: { key: was }, after: { key: ring.current.kid } });
  }
  return rows;
};

/**
 * Re-encrypts every subscription's secret and URL under the current key of the ring, batch by
 * batch, each batch a transaction committed with one `webhook.rekeyed` event per row it moved.
 * Idempotent: rows already under the current key are counted and left alone, so a run that stopped
 * half way is simply run again. Delivery goes on meanwhile (see rekeyBatch). Once `before` shows
 * only the current key and nothing failed, the old keys can leave the ring.
 */
export const rekeyWebhooks = async (ctx: Context, input: z.input<typeof RekeyWebhooksInput>, ring: WebhookKeyRing | undefined): Promise<RekeyReport> => {
  const data = parseInput(RekeyWebhooksInput, input);
  await authorize(ctx, 'webhook.rekey');
  if (!ring) throw new TenureError('webhook.key_missing', 'no webhook key: set TENURE_WEBHOOK_KEY or TENURE_WEBHOOK_KEY_FILE, new key first');
  let report: RekeyReport = {
    check: data.check, currentKey: ring.current.kid, keys: [...ring.keys.keys()], before: {}, rekeyed: 0, alreadyCurrent: 0, failed: [],
  };
  let after = '00000000-0000-0000-0000-000000000000';
  for (;;) {
    const sofar = report;
    const rows = await inTransaction(ctx, async (work) => {
      // Checked again per batch: a long run stops when its actor loses the role.
      await authorize(work, 'webhook.rekey');
      // A transaction retried after a deadlock counts its batch again from the totals before it.
      report = structuredClone(sofar);
      return rekeyBatch(work, ring, after, data, report);
    });
    if (rows.length < data.batchSize) return report;
    after = rows.at(-1)!.id;
  }
};
