import { desc, eq, sql } from 'drizzle-orm';
import { TenureError } from '../domain/errors.js';
import { rawRows, type Executor } from '../store/database.js';
import { auditCheckpoints } from '../store/schema.js';
import { GENESIS_HASH } from './chain.js';
import { appendAnchor, readAnchorUnverified, type AnchorConfig } from './anchor.js';
import { anchorDisagreement } from './restore.js';
import { checkpointSignatureProblem, signCheckpoint, type Checkpoint } from './checkpoint-signature.js';
import { signCheckpointNote, type CheckpointNote } from './note.js';
import type { SigningKey } from './signing-key.js';
import { scanChain, type ChainPoint } from './chain-scan.js';
import { headMark } from './verify.js';

export interface CheckpointOutcome {
  /** False when the head has not moved since the newest checkpoint (or the chain is empty). */
  written: boolean;
  checkpoint: Checkpoint | undefined;
  /** The note appended to the anchor file by this call, if any (also when only the anchor lagged). */
  note: CheckpointNote | undefined;
}

const readHead = async (exec: Executor): Promise<ChainPoint> => {
  const [row] = await rawRows<{ seq: string | number; hash: string }>(exec, sql`SELECT seq, hash FROM audit_head WHERE id = 1`);
  if (!row) throw new Error('audit head row is missing: the database was not migrated');
  return { seq: Number(row.seq), hash: row.hash };
};

const newest = async (exec: Executor, keyId?: string): Promise<Checkpoint | undefined> => {
  const [row] = await exec.select().from(auditCheckpoints)
    .where(keyId === undefined ? undefined : eq(auditCheckpoints.keyId, keyId))
    .orderBy(desc(auditCheckpoints.seq)).limit(1);
  return row;
};

const broken = (seq: number, reason: string): TenureError =>
  new TenureError('audit.chain_broken', `the audit chain is broken at event ${seq}: ${reason}`, { details: { firstBadSeq: seq, reason } });

/**
 * Where re-verification may start: the newest checkpoint this key made, once its signature and its
 * event's hash are confirmed; else the genesis (first checkpoint, or the first after a key rotation).
 */
const trustedStart = async (exec: Executor, key: SigningKey): Promise<ChainPoint> => {
  const mine = await newest(exec, key.keyId);
  if (!mine) return { seq: 0, hash: GENESIS_HASH };
  const forged = checkpointSignatureProblem(mine, new Map([[key.keyId, key.publicKey]]));
  if (forged) throw broken(mine.seq, forged);
  const [event] = await rawRows<{ hash: string }>(exec, sql`SELECT hash FROM audit_events WHERE seq = ${mine.seq}`);
  if (event?.hash !== mine.hash) throw broken(mine.seq, `event ${mine.seq} no longer has the hash its checkpoint signed`);
  return { seq: mine.seq, hash: mine.hash };
};

/**
 * Signs the current head, appends it to the anchor file outside the database as a C2SP checkpoint
 * note, then to audit_checkpoints; nothing when both already hold the head. The events since this
 * key's previous checkpoint are verified first: signing a tampered tail would vouch for it.
 * Writing a checkpoint is not itself an audit event, since that would move the head and leave
 * every checkpoint stale the moment it is written. The anchor is written before the row commits:
 * a note for events that did commit is true even if the row is lost, while a row without its note
 * would leave the anchor behind.
 */
export const writeCheckpoint = async (
  exec: Executor, at: Date, key: SigningKey, anchor: AnchorConfig, options: { overFork?: boolean } = {},
): Promise<CheckpointOutcome> =>
  exec.transaction(async (tx) => {
    const head = await readHead(tx);
    const latest = await newest(tx);
    const stored = latest !== undefined && latest.seq >= head.seq;
    if (head.seq === 0) return { written: false, checkpoint: latest, note: undefined };
    const anchored = readAnchorUnverified(anchor);
    if (stored && Math.max(0, ...anchored.map((n) => n.size)) >= head.seq) return { written: false, checkpoint: latest, note: undefined };
    // Never vouch for a chain its anchor contradicts (a cut tail, a forged acknowledgement): only the
    // key holder's explicit acknowledgement of a restore signs over the fork (audit/restore.ts).
    const contradicted = options.overFork ? undefined : await anchorDisagreement(tx, anchored, head, anchor.file);
    if (contradicted) throw broken(contradicted.seq, contradicted.reason);
    const start = await trustedStart(tx, key);
    const scan = await scanChain(tx, start, head.seq, [headMark(head)]);
    if (scan.problem) throw broken(scan.problem.seq, scan.problem.reason);
    const checkpoint = signCheckpoint(key, head, at);
    const note = signCheckpointNote(anchor.origin, head.seq, head.hash, key.privateKey!, key.publicKey);
    appendAnchor(anchor, note);
    if (stored) return { written: false, checkpoint: latest, note };
    // Two workers may sign the same head at once; the first insert stands and the other is a no-op.
    const inserted = await tx.insert(auditCheckpoints).values(checkpoint).onConflictDoNothing().returning();
    return inserted.length > 0 ? { written: true, checkpoint, note } : { written: false, checkpoint: await newest(tx), note };
  });
