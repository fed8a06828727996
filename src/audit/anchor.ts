import { closeSync, fstatSync, fsyncSync, mkdirSync, openSync, readSync, writeSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { KeyObject } from 'node:crypto';
import { TenureError } from '../domain/errors.js';
import { noteSignedBy, parseCheckpointNote, validKeyName, type CheckpointNote } from './note.js';
import type { KeySource } from './signing-key.js';

/**
 * The copy of every signed checkpoint kept outside the database: an append-only file of C2SP
 * checkpoint notes and, when configured, a witness that is sent each one. Whoever can rewrite the
 * database (its superuser, the role that owns Tenure's tables) must not be able to rewrite these,
 * so the file belongs on storage that role cannot write, or is shipped off the host (docs/audit.md).
 */
export interface AnchorConfig {
  /** The append-only file: TENURE_AUDIT_ANCHOR_FILE, else `<TENURE_AUDIT_ANCHOR_DIR or data dir>/audit-checkpoints.log`. */
  file: string;
  /** The checkpoint origin and signature key name: TENURE_AUDIT_ORIGIN, a schema-less URL naming this log. */
  origin: string;
  /** TENURE_AUDIT_WITNESS_URL: each note is POSTed there as text/plain. */
  witnessUrl: string | undefined;
}

export const ANCHOR_FILE = 'audit-checkpoints.log';
export const DEFAULT_ORIGIN = 'tenure.invalid/audit';
/** The anchor's tail that verify reads: about a hundred notes, always including the newest. */
const TAIL_BYTES = 16 * 1024;
const WITNESS_TIMEOUT_MS = 5_000;

export const anchorFrom = (source: KeySource): AnchorConfig => {
  const origin = source.env.TENURE_AUDIT_ORIGIN || DEFAULT_ORIGIN;
  if (!validKeyName(origin)) {
    throw new TenureError('input.invalid', `TENURE_AUDIT_ORIGIN '${origin}' may not contain spaces or '+'`, { field: 'TENURE_AUDIT_ORIGIN' });
  }
  const file = source.env.TENURE_AUDIT_ANCHOR_FILE || join(source.env.TENURE_AUDIT_ANCHOR_DIR || source.dataDir, ANCHOR_FILE);
  return { file, origin, witnessUrl: source.env.TENURE_AUDIT_WITNESS_URL || undefined };
};

/**
 * Appends one note followed by a blank line, in one write to a file opened for appending only: a
 * file with the append-only attribute (chattr +a) or a WORM mount accepts exactly this.
 */
export const appendAnchor = (config: AnchorConfig, note: CheckpointNote): void => {
  mkdirSync(dirname(config.file), { recursive: true, mode: 0o700 });
  const fd = openSync(config.file, 'a', 0o600);
  try {
    writeSync(fd, `${note.text}\n`);
    // On disk before the database row commits: the note is what proves a later cut of the chain.
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
};

const readTail = (file: string): { text: string; whole: boolean } | undefined => {
  let fd: number;
  try { fd = openSync(file, 'r'); } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  try {
    const size = fstatSync(fd).size;
    const length = Math.min(size, TAIL_BYTES);
    const buffer = Buffer.alloc(length);
    readSync(fd, buffer, 0, length, size - length);
    return { text: buffer.toString('utf8'), whole: length === size };
  } finally {
    closeSync(fd);
  }
};

const NOTE = /^[^\n\u2014][^\n]*\n[0-9]+\n[A-Za-z0-9+/=]+\n\n(?:\u2014 [^\n]+\n)+/gmu;

export interface AnchorReading {
  /** Notes in the tail whose signature a trusted key made, in file order (the order they were appended). */
  notes: CheckpointNote[];
  /** Why the anchor cannot be trusted: a note no trusted key signed. */
  problem: string | undefined;
}

/**
 * The newest notes of the anchor file. A note in it that no trusted key signed is a problem, not
 * noise: only the signer appends here, so it means someone else wrote to the file.
 */
export const readAnchor = (config: AnchorConfig, trusted: Iterable<KeyObject>): AnchorReading => {
  const tail = readTail(config.file);
  if (!tail) return { notes: [], problem: undefined };
  const keys = [...trusted];
  const found = [...tail.text.matchAll(NOTE)].map((m) => m[0]);
  // Reading from the middle of the file, the first match may be the end of a longer note.
  if (!tail.whole) found.shift();
  const notes: CheckpointNote[] = [];
  for (const text of found) {
    const note = parseCheckpointNote(text);
    if (typeof note === 'string') return { notes, problem: `${config.file} holds a malformed checkpoint (${note})` };
    if (!noteSignedBy(text, note.origin, keys)) {
      return { notes, problem: `${config.file} holds a checkpoint for event ${note.size} that no trusted key signed` };
    }
    notes.push(note);
  }
  return { notes, problem: undefined };
};

/** Sends the note to the witness; the reason when it did not take it. */
export const sendToWitness = async (url: string, note: CheckpointNote): Promise<string | undefined> => {
  try {
    const response = await fetch(url, {
      method: 'POST', headers: { 'content-type': 'text/plain; charset=utf-8' }, body: note.text,
      signal: AbortSignal.timeout(WITNESS_TIMEOUT_MS),
    });
    await response.body?.cancel();
    return response.ok ? undefined : `the witness answered ${response.status}`;
  } catch (error) {
    return `the witness could not be reached (${(error as Error).message})`;
  }
};

/**
 * The notes of the anchor's tail in file order, signatures unchecked: for the writer, which only
 * decides whether to add a note or to refuse to sign. Nothing here makes verify accept anything.
 */
export const readAnchorUnverified = (config: AnchorConfig): CheckpointNote[] => {
  const tail = readTail(config.file);
  if (!tail) return [];
  const notes: CheckpointNote[] = [];
  for (const match of tail.text.matchAll(NOTE)) {
    const note = parseCheckpointNote(match[0]);
    if (typeof note !== 'string') notes.push(note);
  }
  return notes;
};
