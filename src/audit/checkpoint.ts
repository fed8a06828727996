import { desc, eq, sql } from 'drizzle-orm';
import { TenureError } from '../domain/errors.js';
import { rawRows, type Executor } from '../store/database.js';
import { auditCheckpoints } from '../store/schema.js';
import { GENESIS_HASH } from './chain.js';
import { checkpointSignatureProblem, signCheckpoint, type Checkpoint } from './checkpoint-signature.js';
import type { SigningKey } from './signing-key.js';
import { scanChain, type ChainPoint } from './chain-scan.js';
import { headMark } from './verify.js';

export interface CheckpointOutcome {
  /** False when the head has not moved since the newest checkpoint (or the chain is empty). */
  written: boolean;
  checkpoint: Checkpoint | undefined;
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
 * Signs the current head and appends it to audit_checkpoints, unless the head has not moved. The
 * events since this key's previous checkpoint are verified first: signing a tampered tail would
 * vouch for it. Writing a checkpoint is not itself an audit event, since that would move the head
 * and leave every checkpoint stale the moment it is written.
 */
export const writeCheckpoint = async (exec: Executor, at: Date, key: SigningKey): Promise<CheckpointOutcome> =>
  exec.transaction(async (tx) => {
    const head = await readHead(tx);
    const latest = await newest(tx);
    if (head.seq === 0 || (latest && latest.seq >= head.seq)) return { written: false, checkpoint: latest };
    const start = await trustedStart(tx, key);
    const scan = await scanChain(tx, start, head.seq, [headMark(head)]);
    if (scan.problem) throw broken(scan.problem.seq, scan.problem.reason);
    const checkpoint = signCheckpoint(key, head, at);
    // Two workers may sign the same head at once; the first insert stands and the other is a no-op.
    const inserted = await tx.insert(auditCheckpoints).values(checkpoint).onConflictDoNothing().returning();
    return inserted.length > 0 ? { written: true, checkpoint } : { written: false, checkpoint: await newest(tx) };
  });
