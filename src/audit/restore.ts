/**
 * A restore, acknowledged. From the anchor's point of view a database restored from a backup and an
 * attacker cutting the log's tail look the same, and `audit verify` fails on both, on purpose. An
 * operator who restored says so with `tenure audit acknowledge-restore`: an audit event on the
 * restored chain names the last event the chain and the anchor agree on (the fork) and the anchored
 * branch given up, and a checkpoint note signed over that event is appended to the anchor.
 *
 * Verify then sets aside the anchor notes written before that note (in file order) for events past
 * the fork. Only a note a trusted key signed over the acknowledgement can do this: the owner of the
 * database can insert such an event, but without the signing key no note vouches for it, and an
 * event slipped in under an existing note breaks that note's hash.
 */
import { asc, eq, inArray } from 'drizzle-orm';
import type { Executor } from '../store/database.js';
import { auditEvents } from '../store/schema.js';
import type { CheckpointNote } from './note.js';

export const RESTORE_ACKNOWLEDGED = 'audit.restore_acknowledged';

/** What the acknowledgement event records (its `data`), and so what its signed note vouches for. */
export interface RestoreAcknowledgement {
  /** The newest event the restored chain and the anchor agreed on: everything up to it is checked as before. */
  forkSeq: number;
  /** Null when the chain agrees with no anchored checkpoint at all (a backup older than the anchor's first). */
  forkHash: string | null;
  /** The newest anchored event given up, and its hash: the branch the backup did not hold. */
  supersededSeq: number;
  supersededHash: string;
  anchorFile: string;
}

export interface AcknowledgedRestore extends RestoreAcknowledgement {
  /** The event that acknowledged it. */
  seq: number;
}

/** The newest anchored point the chain still agrees with, and the anchored notes past it. */
export const forkFromAnchor = (notes: CheckpointNote[], hashAt: Map<number, string>): { forkSeq: number; forkHash: string | null; superseded: CheckpointNote[] } => {
  let fork: CheckpointNote | undefined;
  for (const note of notes) if (hashAt.get(note.size) === note.hash && note.size > (fork?.size ?? 0)) fork = note;
  const forkSeq = fork?.size ?? 0;
  return { forkSeq, forkHash: fork?.hash ?? null, superseded: notes.filter((note) => note.size > forkSeq || hashAt.get(note.size) !== note.hash) };
};

/** The chain's hash at each seq an anchor note names (one query), for telling agreeing notes from the rest. */
const hashesAt = async (exec: Executor, notes: CheckpointNote[]): Promise<Map<number, string>> => {
  const sizes = [...new Set(notes.map((n) => n.size))];
  if (sizes.length === 0) return new Map();
  const rows = await exec.select({ seq: auditEvents.seq, hash: auditEvents.hash }).from(auditEvents).where(inArray(auditEvents.seq, sizes));
  return new Map(rows.map((row) => [row.seq, row.hash]));
};

/**
 * The anchor's notes that still bind the chain, in file order, and the restores that set the others
 * aside. An acknowledgement counts once a note that agrees with the chain (same hash at its seq)
 * covers it: that note proves the chain up to it, acknowledgement included, is what the key holder
 * signed. Every note before that one in the file past the restore's fork is then dropped. A note of
 * the given-up branch vouches for nothing (it disagrees), so a forged acknowledgement that no
 * agreeing note covers changes nothing; and the checkpointer will not sign over a chain that
 * disagrees with its anchor (see anchorDisagreement), so none comes later either.
 */
export const applyAcknowledgedRestores = async (exec: Executor, notes: CheckpointNote[]): Promise<{ binding: CheckpointNote[]; restores: AcknowledgedRestore[]; hashAt: Map<number, string> }> => {
  const hashAt = await hashesAt(exec, notes);
  if (notes.length === 0) return { binding: notes, restores: [], hashAt };
  const rows = await exec.select({ seq: auditEvents.seq, canonical: auditEvents.canonical }).from(auditEvents)
    .where(eq(auditEvents.action, RESTORE_ACKNOWLEDGED)).orderBy(asc(auditEvents.seq));
  const pending = rows.map((row) => ({ ...(JSON.parse(row.canonical) as { data: RestoreAcknowledgement }).data, seq: row.seq }));
  let binding: CheckpointNote[] = [];
  const restores: AcknowledgedRestore[] = [];
  for (const note of notes) {
    const agrees = hashAt.get(note.size) === note.hash;
    while (agrees && pending.length > 0 && pending[0]!.seq <= note.size) {
      const restore = pending.shift()!;
      binding = binding.filter((earlier) => earlier.size <= restore.forkSeq);
      restores.push(restore);
    }
    binding.push(note);
  }
  return { binding, restores, hashAt };
};

/**
 * Why the chain may not be signed as it is: a binding anchor note it is behind or disagrees with.
 * The checkpointer asks this before every signature, so that a cut tail (with or without a forged
 * acknowledgement) is never vouched for by the running service; only `acknowledge-restore` signs over a fork.
 */
export const anchorDisagreement = async (exec: Executor, notes: CheckpointNote[], head: { seq: number }, file: string): Promise<{ seq: number; reason: string } | undefined> => {
  const { binding, hashAt } = await applyAcknowledgedRestores(exec, notes);
  for (const note of binding) {
    if (note.size > head.seq) {
      return { seq: head.seq + 1, reason: `the database is behind its anchor: ${file} holds a checkpoint of event ${note.size}, but the chain ends at ${head.seq}`
        + ' (after a restore from a backup: tenure audit acknowledge-restore)' };
    }
    if (hashAt.get(note.size) !== note.hash) {
      return { seq: note.size, reason: `event ${note.size} does not have the hash the checkpoint in ${file} signed: the database disagrees with its anchor` };
    }
  }
  return undefined;
};
