import { asc, sql } from 'drizzle-orm';
import { rawRows, type Executor } from '../store/database.js';
import { auditCheckpoints } from '../store/schema.js';
import { GENESIS_HASH } from './chain.js';
import { scanChain, type ChainMark, type ChainPoint, type ChainProblem } from './chain-scan.js';
import { checkpointSignatureProblem, type Checkpoint } from './checkpoint-signature.js';
import type { TrustedKeys } from './signing-key.js';

export type { ChainMark, ChainPoint, ChainProblem } from './chain-scan.js';

export interface VerifyResult {
  ok: boolean;
  /** Events verified: all of them when ok, those before the first bad one otherwise. */
  events: number;
  firstBadSeq: number | null;
  reason: string | null;
  checkpoints: number;
  head: ChainPoint;
}

const readCheckpoints = (exec: Executor): Promise<Checkpoint[]> =>
  exec.select().from(auditCheckpoints).orderBy(asc(auditCheckpoints.seq));

/**
 * Head and newest event read in one statement, so both come from one snapshot even while writers
 * append: an event past the head is then evidence of an insert that bypassed the head lock.
 */
const readHead = async (exec: Executor): Promise<{ head: ChainPoint; maxSeq: number }> => {
  const [row] = await rawRows<{ head_seq: string | number | null; head_hash: string | null; max_seq: string | number | null }>(exec, sql`
    SELECT (SELECT seq FROM audit_head WHERE id = 1) AS head_seq, (SELECT hash FROM audit_head WHERE id = 1) AS head_hash,
           (SELECT max(seq) FROM audit_events) AS max_seq`);
  return {
    head: { seq: Number(row?.head_seq ?? 0), hash: row?.head_hash ?? GENESIS_HASH },
    maxSeq: Number(row?.max_seq ?? 0),
  };
};

const cutTail = (last: ChainPoint, what: string, claimedSeq: number): ChainProblem => ({
  seq: last.seq + 1,
  reason: `${what} covers events up to ${claimedSeq}, but the chain ends at ${last.seq}: events ${last.seq + 1}-${claimedSeq} were removed`,
});

export const headMark = (head: ChainPoint): ChainMark => ({
  seq: head.seq,
  check: (hash) => (hash === head.hash ? undefined
    : `the head records hash ${head.hash.slice(0, 12)}… for event ${head.seq}, but the chain computes ${hash.slice(0, 12)}…`),
  beyond: (last) => cutTail(last, 'the chain head', head.seq),
});

export const checkpointMark = (cp: Checkpoint, trusted: TrustedKeys): ChainMark => {
  const label = `the checkpoint at seq ${cp.seq} (signed ${cp.signedAt.toISOString()} by key ${cp.keyId})`;
  const forged = checkpointSignatureProblem(cp, trusted);
  return {
    seq: cp.seq,
    check: (hash) => forged ?? (hash === cp.hash ? undefined
      : `event ${cp.seq} does not have the hash ${label} signed: the chain up to it was rewritten`),
    beyond: (last) => (forged ? { seq: cp.seq, reason: forged } : cutTail(last, label, cp.seq)),
  };
};

const verifyIn = async (exec: Executor, trusted: TrustedKeys): Promise<VerifyResult> => {
  const checkpoints = await readCheckpoints(exec);
  const { head, maxSeq } = await readHead(exec);
  const marks = [headMark(head), ...checkpoints.map((cp) => checkpointMark(cp, trusted))].filter((m) => m.seq > 0);
  const scan = await scanChain(exec, { seq: 0, hash: GENESIS_HASH }, Math.max(maxSeq, head.seq), marks);
  let problem = scan.problem;
  if (!problem && scan.last.seq > head.seq) {
    problem = { seq: head.seq + 1, reason: `event ${head.seq + 1} lies beyond the chain head (${head.seq}): it was added without the head lock` };
  }
  const base = { events: problem ? Math.min(scan.events, problem.seq - 1) : scan.events, checkpoints: checkpoints.length, head };
  return problem
    ? { ok: false, firstBadSeq: problem.seq, reason: problem.reason, ...base }
    : { ok: true, firstBadSeq: null, reason: null, ...base };
};

/**
 * Verifies the whole chain: seqs contiguous from 1, each event's hash, the head row, and every
 * checkpoint's signature and hash. Given the database, it reads one snapshot in a read-only
 * transaction, with room to sort each group of events in memory. Given the caller's transaction,
 * checkpoints are still read before the head, so one written meanwhile cannot seem past the end.
 */
export const verifyChain = async (exec: Executor, trusted: TrustedKeys): Promise<VerifyResult> => {
  if ('rollback' in exec) return verifyIn(exec, trusted);
  return exec.transaction(async (tx) => {
    await tx.execute(sql`SET LOCAL work_mem = '64MB'`);
    return verifyIn(tx, trusted);
  }, { isolationLevel: 'repeatable read', accessMode: 'read only' });
};
