import { sql } from 'drizzle-orm';
import { z } from 'zod';
import { readAnchor, type AnchorConfig } from '../audit/anchor.js';
import { applyAcknowledgedRestores, forkFromAnchor, RESTORE_ACKNOWLEDGED, type RestoreAcknowledgement } from '../audit/restore.js';
import type { SigningKey, TrustedKeys } from '../audit/signing-key.js';
import { TenureError } from '../domain/errors.js';
import { rawRows } from '../store/database.js';
import { inTransaction, type Context } from '../work/context.js';
import { authorize } from './authorize.js';
import { parseInput, text } from './input.js';
import { writeAuditCheckpoint, type CheckpointSummary } from './write-checkpoint.js';

export const AcknowledgeRestoreInput = z.object({
  reason: text(1000).describe('which backup was restored, when and why: kept in the audit event'),
}).strict();

export interface RestoreAcknowledged extends RestoreAcknowledgement {
  /** The acknowledgement event, and the checkpoint signed over it into the anchor. */
  seq: number;
  checkpoint: CheckpointSummary;
}

/**
 * After a restore from a backup, says so in the audit log and in the anchor (see audit/restore.ts):
 * one event naming the fork and the anchored branch given up, then a checkpoint signed over it.
 * Needs the private signing key (only its holder can vouch for the restore) and audit.checkpoint.
 * Refused when the database is not behind or beside its anchor: there is nothing to acknowledge.
 */
export const acknowledgeRestore = async (
  ctx: Context, input: z.input<typeof AcknowledgeRestoreInput>, keys: { signing: SigningKey | undefined; trusted: TrustedKeys }, anchor: AnchorConfig,
): Promise<RestoreAcknowledged> => {
  const { reason } = parseInput(AcknowledgeRestoreInput, input);
  if (!keys.signing?.privateKey) {
    throw new TenureError('audit.signing_key_missing', 'acknowledging a restore signs a checkpoint: set TENURE_AUDIT_SIGNING_KEY or TENURE_AUDIT_KEY_FILE to the private key');
  }
  const notes = readAnchor(anchor, keys.trusted.values()).notes;
  const seq = await inTransaction(ctx, async (work) => {
    await authorize(work, 'audit.checkpoint');
    // The head row, locked as every appender locks it: no event lands between reading the fork and recording it.
    await work.tx.execute(sql`SELECT seq FROM audit_head WHERE id = 1 FOR UPDATE`);
    // Only notes still binding: a branch an earlier acknowledgement gave up needs no second one.
    const { binding, hashAt } = await applyAcknowledgedRestores(work.tx, notes);
    const { forkSeq, forkHash, superseded } = forkFromAnchor(binding, hashAt);
    const newest = superseded.reduce<typeof superseded[number] | undefined>((a, b) => (a && a.size >= b.size ? a : b), undefined);
    if (!newest) {
      throw new TenureError('audit.nothing_to_acknowledge', `every checkpoint in ${anchor.file} agrees with the database: there is no restore to acknowledge`);
    }
    const data: RestoreAcknowledgement = { forkSeq, forkHash, supersededSeq: newest.size, supersededHash: newest.hash, anchorFile: anchor.file };
    work.record({ action: RESTORE_ACKNOWLEDGED, subject: { type: 'audit', id: 'chain' }, reason, data });
    const [head] = await rawRows<{ seq: string }>(work.tx, sql`SELECT seq::text AS seq FROM audit_head WHERE id = 1`);
    return { data, seq: Number(head!.seq) + 1 };
  });
  // Signed at once, over the fork, so the note that vouches for the acknowledgement is in the anchor
  // before this returns. A running worker cannot sign first (the anchor still contradicts the chain
  // until this note exists); events it appended meanwhile are covered by this note as well.
  const checkpoint = await writeAuditCheckpoint(ctx, keys.signing, anchor, { overFork: true });
  return { ...seq.data, seq: seq.seq, checkpoint };
};
