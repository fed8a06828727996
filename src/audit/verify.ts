import { sql } from 'drizzle-orm';
import { rawRows, type Executor } from '../store/database.js';
import { GENESIS_HASH } from './chain.js';
import { scanChain, type ChainMark, type ChainPoint, type ChainProblem } from './chain-scan.js';
import { readAnchor, type AnchorConfig } from './anchor.js';
import { applyAcknowledgedRestores, type AcknowledgedRestore } from './restore.js';
import { checkpointSignatureProblem, type Checkpoint } from './checkpoint-signature.js';
import type { CheckpointNote } from './note.js';
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
  /** The newest checkpoint found in the anchor outside the database, by seq; null when it holds none. */
  anchoredSeq: number | null;
  /** Restores acknowledged with a signed note in the anchor: the anchored events each one gave up. */
  restores: AcknowledgedRestore[];
}

export interface VerifyOptions {
  trusted: TrustedKeys;
  /** The checkpoints kept outside the database: the database may be neither behind them nor disagree. */
  anchor: AnchorConfig;
  now: Date;
  /** How long events may stay unsigned before verify says the checkpointer is not doing its job. */
  unsignedGraceMs: number;
  /** Accept a chain no checkpoint covers, or events unsigned for longer than the grace (a new install, a test). */
  allowUnsigned?: boolean;
}

/**
 * The newest checkpoint of each key, whose signatures verify checks. An older checkpoint's
 * signature adds nothing once the whole chain is rehashed from the genesis: its hash is still
 * compared as the scan passes it (see checkpointsIn), and a rewrite that kept old hashes cannot
 * reach the newest checkpoint, which is signed. Checking only these keeps verify's cost in events,
 * not in checkpoints, which the worker writes every few seconds.
 */
const newestCheckpoints = (exec: Executor): Promise<Checkpoint[]> =>
  rawRows<{ seq: string | number; hash: string; signed_at: string | Date; key_id: string; signature: string }>(exec, sql`
    SELECT DISTINCT ON (key_id) seq, hash, signed_at, key_id, signature FROM audit_checkpoints ORDER BY key_id, seq DESC`)
    .then((rows) => rows.map((r) => ({ seq: Number(r.seq), hash: r.hash, signedAt: new Date(r.signed_at), keyId: r.key_id, signature: r.signature }))
      .sort((a, b) => a.seq - b.seq));

const countCheckpoints = async (exec: Executor): Promise<number> => {
  const [row] = await rawRows<{ n: string | number }>(exec, sql`SELECT count(*) AS n FROM audit_checkpoints`);
  return Number(row?.n ?? 0);
};

/** Every checkpoint in (after, until], as a mark on its hash alone: read page by page with the events. */
const checkpointsIn = (exec: Executor) => async (after: number, until: number): Promise<ChainMark[]> => {
  const rows = await rawRows<{ seq: string | number; hash: string; signed_at: string | Date; key_id: string }>(exec, sql`
    SELECT seq, hash, signed_at, key_id FROM audit_checkpoints WHERE seq > ${after} AND seq <= ${until} ORDER BY seq`);
  return rows.map((row) => hashMark({ seq: Number(row.seq), hash: row.hash, signedAt: new Date(row.signed_at), keyId: row.key_id }));
};

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
  rank: 0,
  check: (hash) => (hash === head.hash ? undefined
    : `the head records hash ${head.hash.slice(0, 12)}… for event ${head.seq}, but the chain computes ${hash.slice(0, 12)}…`),
  beyond: (last) => cutTail(last, 'the chain head', head.seq),
});

const checkpointLabel = (cp: Omit<Checkpoint, 'signature'>): string =>
  `the checkpoint at seq ${cp.seq} (signed ${cp.signedAt.toISOString()} by key ${cp.keyId})`;

/** A checkpoint met on the way, its signature left to newestCheckpoints: its hash must be the chain's. */
const hashMark = (cp: Omit<Checkpoint, 'signature'>): ChainMark => ({
  seq: cp.seq,
  rank: 1,
  check: (hash) => (hash === cp.hash ? undefined : `event ${cp.seq} does not have the hash ${checkpointLabel(cp)} signed: the chain up to it was rewritten`),
  beyond: (last) => cutTail(last, checkpointLabel(cp), cp.seq),
});

export const checkpointMark = (cp: Checkpoint, trusted: TrustedKeys): ChainMark => {
  const label = checkpointLabel(cp);
  const forged = checkpointSignatureProblem(cp, trusted);
  return {
    seq: cp.seq,
    rank: 1,
    check: (hash) => forged ?? (hash === cp.hash ? undefined
      : `event ${cp.seq} does not have the hash ${label} signed: the chain up to it was rewritten`),
    beyond: (last) => (forged ? { seq: cp.seq, reason: forged } : cutTail(last, label, cp.seq)),
  };
};

/** A checkpoint from outside the database: the chain must reach its seq, with its hash. */
export const anchorMark = (note: CheckpointNote, file: string): ChainMark => ({
  seq: note.size,
  rank: 2,
  check: (hash) => (hash === note.hash ? undefined
    : `event ${note.size} does not have the hash the checkpoint in ${file} signed: the database disagrees with its anchor, the chain was rewritten`),
  beyond: (last) => ({
    seq: last.seq + 1,
    reason: `the database is behind its anchor: ${file} holds a checkpoint of event ${note.size}, but the chain ends at ${last.seq}:`
      + ` events ${last.seq + 1}-${note.size} were removed`,
  }),
});

const occurredAt = async (exec: Executor, seq: number): Promise<Date | undefined> => {
  const [row] = await rawRows<{ canonical: string }>(exec, sql`SELECT canonical FROM audit_events WHERE seq = ${seq}`);
  return row ? new Date((JSON.parse(row.canonical) as { at: string }).at) : undefined;
};

/** A sound chain is still not ok when nothing outside the database vouches for its recent events. */
const signingProblem = async (exec: Executor, o: VerifyOptions, head: ChainPoint, dbSigned: number, anchored: number): Promise<ChainProblem | undefined> => {
  if (head.seq === 0) return undefined;
  if (dbSigned > 0 && anchored === 0) {
    return { seq: 1, reason: `the database holds checkpoints up to event ${dbSigned} but ${o.anchor.file} holds none:`
      + ' the anchor outside the database is missing (run tenure audit checkpoint to start one, after finding out why)' };
  }
  if (o.allowUnsigned) return undefined;
  const signed = Math.max(dbSigned, anchored);
  if (signed === 0) {
    return { seq: 1, reason: `no signed checkpoint covers any of the ${head.seq} events: nothing outside the database vouches for them`
      + ' (run tenure audit checkpoint, or pass --allow-unsigned)' };
  }
  if (signed >= head.seq) return undefined;
  const since = await occurredAt(exec, signed + 1);
  if (!since || o.now.getTime() - since.getTime() <= o.unsignedGraceMs) return undefined;
  return { seq: signed + 1, reason: `events ${signed + 1}-${head.seq} are unsigned since ${since.toISOString()}, longer than`
    + ` ${Math.round(o.unsignedGraceMs / 1000)} s: no checkpointer is running, or the tail after the last checkpoint was replaced` };
};

const verifyIn = async (exec: Executor, o: VerifyOptions): Promise<VerifyResult> => {
  const checkpoints = await newestCheckpoints(exec);
  const count = await countCheckpoints(exec);
  const { head, maxSeq } = await readHead(exec);
  const anchor = readAnchor(o.anchor, o.trusted.values());
  // Notes an acknowledged restore gave up no longer bind the chain; the acknowledgement's own note does.
  const { binding, restores } = await applyAcknowledgedRestores(exec, anchor.notes);
  const anchoredSeq = binding.length > 0 ? Math.max(...binding.map((n) => n.size)) : null;
  const marks = [headMark(head), ...checkpoints.map((cp) => checkpointMark(cp, o.trusted)), ...binding.map((n) => anchorMark(n, o.anchor.file))]
    .filter((m) => m.seq > 0);
  const scan = await scanChain(exec, { seq: 0, hash: GENESIS_HASH }, Math.max(maxSeq, head.seq), marks, checkpointsIn(exec));
  let problem = scan.problem;
  if (!problem && scan.last.seq > head.seq) {
    problem = { seq: head.seq + 1, reason: `event ${head.seq + 1} lies beyond the chain head (${head.seq}): it was added without the head lock` };
  }
  if (!problem && anchor.problem) problem = { seq: (anchoredSeq ?? 0) + 1, reason: anchor.problem };
  problem ??= await signingProblem(exec, o, head, checkpoints.at(-1)?.seq ?? 0, anchoredSeq ?? 0);
  const base = { events: problem ? Math.min(scan.events, problem.seq - 1) : scan.events, checkpoints: count, head, anchoredSeq, restores };
  return problem
    ? { ok: false, firstBadSeq: problem.seq, reason: problem.reason, ...base }
    : { ok: true, firstBadSeq: null, reason: null, ...base };
};

/**
 * Verifies the whole chain: seqs contiguous from 1, each event's hash and the columns copied from
 * it, the head row, every checkpoint's hash and the newest signature of each key, and the checkpoints in the anchor outside
 * the database; then that something signed covers the events (see VerifyOptions). Given the
 * database, it reads one snapshot in a read-only transaction, with room to sort each group of events
 * in memory. Checkpoints and the anchor are read before the head, so one written meanwhile cannot
 * seem past the end.
 */
export const verifyChain = async (exec: Executor, options: VerifyOptions): Promise<VerifyResult> => {
  if ('rollback' in exec) return verifyIn(exec, options);
  return exec.transaction(async (tx) => {
    await tx.execute(sql`SET LOCAL work_mem = '64MB'`);
    return verifyIn(tx, options);
  }, { isolationLevel: 'repeatable read', accessMode: 'read only' });
};
