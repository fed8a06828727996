import { randomInt } from 'node:crypto';
import { sql } from 'drizzle-orm';
import { GENESIS_HASH } from '../audit/chain.js';
import { rawRows, type Executor } from '../store/database.js';
import type { SiemTarget } from './config.js';
import type { StreamedEvent } from './records.js';

/*
 * WHY A LEASE AND A COMPARE-AND-SET, NOT THE CURSOR ROW LOCK. The webhook dispatcher holds its cursor
 * row FOR UPDATE because its work (inserting outbox rows) is inside the database. Here the work is a
 * network send to a receiver that may hang for the whole timeout; holding a transaction open across it
 * would pin a pooled connection on the server and, on the embedded PGlite (one connection for the whole
 * process), stall every other step of the worker. So no transaction spans a send:
 *
 *  - the LEASE (feed cursor row `siem:<target>:lease`, whose seq holds the lease's deadline in epoch
 *    milliseconds by the database's clock) makes one streamer per target at a time across processes:
 *    taking it is one conditional UPDATE, which only one of several processes can win; a process that
 *    dies keeps it only until the deadline. The value taken (deadline plus a random few milliseconds)
 *    is the holder's token: renewing and releasing compare it, so an expired holder cannot cut short
 *    the lease of the next one;
 *  - the CURSOR (`siem:<target>`) is advanced only after the receiver accepted the batch, and only if it
 *    still holds the value the batch was read from (compare-and-set). If a holder outlived its lease
 *    (a send longer than the lease, a paused process), two streamers can send the same batch: that is
 *    the documented at-least-once repeat, deduplicated by seq and hash. The cursor never moves back and
 *    never skips an event.
 *
 * Events are read only up to the audit head: seq is assigned under the head lock, so every event up to
 * a committed head is itself committed, and the stream never passes an event still in flight.
 */

export const LEASE_MS = 60_000;
export const BATCH_SIZE = 500;

export const cursorName = (target: Pick<SiemTarget, 'name'>): string => `siem:${target.name}`;
const leaseName = (target: Pick<SiemTarget, 'name'>): string => `${cursorName(target)}:lease`;
const DB_NOW_MS = sql`(extract(epoch from clock_timestamp()) * 1000)::bigint`;

/** Creates the cursor (at 0, or at the head for `start: now`) and the lease row on first use. */
const ensureRows = async (db: Executor, target: SiemTarget): Promise<void> => {
  const start = target.start === 'now' ? sql`(SELECT seq FROM audit_head WHERE id = 1)` : sql`0`;
  await db.execute(sql`INSERT INTO feed_cursors (name, seq) VALUES (${cursorName(target)}, ${start}), (${leaseName(target)}, 0) ON CONFLICT (name) DO NOTHING`);
};

/** The token of the lease when this caller took it, undefined when another streamer holds it. */
const takeLease = async (db: Executor, target: SiemTarget, leaseMs: number): Promise<number | undefined> => {
  const [row] = await rawRows<{ seq: string | number }>(db, sql`
    UPDATE feed_cursors SET seq = ${DB_NOW_MS} + ${leaseMs + randomInt(1, 1000)}::bigint
    WHERE name = ${leaseName(target)} AND seq < ${DB_NOW_MS} RETURNING seq`);
  return row ? Number(row.seq) : undefined;
};

/** The new token, or undefined when the lease was lost (expired and taken by another streamer). */
const renewLease = async (db: Executor, target: SiemTarget, token: number, leaseMs: number): Promise<number | undefined> => {
  const [row] = await rawRows<{ seq: string | number }>(db, sql`
    UPDATE feed_cursors SET seq = ${DB_NOW_MS} + ${leaseMs + randomInt(1, 1000)}::bigint
    WHERE name = ${leaseName(target)} AND seq = ${token}::bigint RETURNING seq`);
  return row ? Number(row.seq) : undefined;
};

const releaseLease = async (db: Executor, target: SiemTarget, token: number): Promise<void> => {
  await db.execute(sql`UPDATE feed_cursors SET seq = 0 WHERE name = ${leaseName(target)} AND seq = ${token}::bigint`);
};

const readCursor = async (db: Executor, target: SiemTarget): Promise<number> => {
  const [row] = await rawRows<{ seq: string | number }>(db, sql`SELECT seq FROM feed_cursors WHERE name = ${cursorName(target)}`);
  return Number(row!.seq);
};

/** The next events after `after`, up to the committed head, each with the hash it chains onto. */
const readBatch = async (db: Executor, after: number, limit: number): Promise<StreamedEvent[]> => {
  const rows = await rawRows<{ seq: string | number; hash: string; prev_hash: string | null; canonical: string }>(db, sql`
    SELECT e.seq, e.hash, p.hash AS prev_hash, e.canonical
    FROM audit_events e LEFT JOIN audit_events p ON p.seq = e.seq - 1
    WHERE e.seq > ${after}::bigint AND e.seq <= (SELECT seq FROM audit_head WHERE id = 1)
    ORDER BY e.seq LIMIT ${limit}`);
  return rows.map((r) => ({ seq: Number(r.seq), hash: r.hash, prevHash: r.prev_hash ?? GENESIS_HASH, canonical: r.canonical }));
};

/** Moves the cursor from `from` to `to` only if nobody else moved it meanwhile. */
const advance = async (db: Executor, target: SiemTarget, from: number, to: number): Promise<boolean> => {
  const moved = await rawRows<{ seq: string | number }>(db, sql`
    UPDATE feed_cursors SET seq = ${to}::bigint WHERE name = ${cursorName(target)} AND seq = ${from}::bigint RETURNING seq`);
  return moved.length === 1;
};

export interface StreamResult {
  target: string;
  /** Events the receiver accepted in this run (repeats after a lost compare-and-set included). */
  sent: number;
  /** Another streamer held the lease: this one did nothing. */
  busy: boolean;
  /** Why the run stopped early; the cursor stays before the batch that failed. */
  error?: string;
}

export interface StreamOptions { batchSize?: number; leaseMs?: number }

/** Sends batches until the stream reaches the audit head, the receiver fails, or the lease is lost. */
export const streamTarget = async (db: Executor, target: SiemTarget, options: StreamOptions = {}): Promise<StreamResult> => {
  const batchSize = options.batchSize ?? BATCH_SIZE;
  const leaseMs = options.leaseMs ?? LEASE_MS;
  await ensureRows(db, target);
  let token = await takeLease(db, target, leaseMs);
  if (token === undefined) return { target: target.name, sent: 0, busy: true };
  let sent = 0;
  try {
    for (;;) {
      const from = await readCursor(db, target);
      const batch = await readBatch(db, from, batchSize);
      if (batch.length === 0) return { target: target.name, sent, busy: false };
      try {
        await target.send(batch);
      } catch (error) {
        return { target: target.name, sent, busy: false, error: error instanceof Error ? error.message : String(error) };
      }
      sent += batch.length;
      const moved = await advance(db, target, from, batch[batch.length - 1]!.seq);
      token = moved ? await renewLease(db, target, token, leaseMs) : undefined;
      if (token === undefined) return { target: target.name, sent, busy: true };
    }
  } finally {
    if (token !== undefined) await releaseLease(db, target, token);
  }
};
