import { sendToWitness, type AnchorConfig } from '../audit/anchor.js';
import { writeCheckpoint } from '../audit/checkpoint.js';
import type { SigningKey } from '../audit/signing-key.js';
import { TenureError } from '../domain/errors.js';
import type { Context } from '../work/context.js';
import { authorize } from './authorize.js';

export interface CheckpointSummary {
  written: boolean;
  seq: number | null;
  hash: string | null;
  signedAt: string | null;
  keyId: string | null;
  /** The anchor file the checkpoint note was appended to, when one was (also when only the anchor lagged). */
  anchored: string | null;
  /** Why the witness did not take the note; null when it did or none is configured. */
  witnessProblem: string | null;
}

/** The worker and the system itself sign checkpoints without an identity; people need audit.checkpoint. */
const checkMayCheckpoint = async (ctx: Context): Promise<void> => {
  const { id, channel } = ctx.actor;
  if (id === undefined && (channel === 'worker' || channel === 'system')) return;
  await authorize(ctx, 'audit.checkpoint');
};

/**
 * Signs the current chain head with `key` (see loadSigningKey), unless the head has not moved since
 * the newest checkpoint, appends it to the anchor file and sends it to the witness when one is
 * configured. Refused when no key with a private half is configured.
 */
export const writeAuditCheckpoint = async (
  ctx: Context, key: SigningKey | undefined, anchor: AnchorConfig, options: { overFork?: boolean } = {},
): Promise<CheckpointSummary> => {
  await checkMayCheckpoint(ctx);
  if (!key?.privateKey) {
    throw new TenureError('audit.signing_key_missing', key
      ? `the audit key ${key.keyId} is a public key only: set TENURE_AUDIT_SIGNING_KEY or TENURE_AUDIT_KEY_FILE to the private key`
      : 'no audit signing key: set TENURE_AUDIT_SIGNING_KEY or TENURE_AUDIT_KEY_FILE, or let Tenure create one in its data directory');
  }
  const { written, checkpoint, note } = await writeCheckpoint(ctx.store.db, ctx.clock.now(), key, anchor, options);
  // After the commit: a slow witness must not hold the transaction, and the file already has the note.
  const witnessProblem = note && anchor.witnessUrl ? await sendToWitness(anchor.witnessUrl, note) : undefined;
  return {
    written,
    seq: checkpoint?.seq ?? null,
    hash: checkpoint?.hash ?? null,
    signedAt: checkpoint?.signedAt.toISOString() ?? null,
    keyId: checkpoint?.keyId ?? null,
    anchored: note ? anchor.file : null,
    witnessProblem: witnessProblem ?? null,
  };
};
