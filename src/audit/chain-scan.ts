import * as crypto from 'node:crypto';
import { sql } from 'drizzle-orm';
import { rawRows, type Executor } from '../store/database.js';

/** A position in the chain: event `seq` and its hash (seq 0 is the genesis). */
export interface ChainPoint { seq: number; hash: string }

export interface ChainProblem { seq: number; reason: string }

/**
 * A hash the chain must have at `seq` (the head row, a signed checkpoint). `check` returns a reason
 * when the computed hash disagrees; `beyond` explains a mark past the last event (a cut tail).
 */
export interface ChainMark {
  seq: number;
  check(hash: string): string | undefined;
  beyond(last: ChainPoint): ChainProblem;
}

export interface ScanResult { events: number; last: ChainPoint; problem: ChainProblem | undefined }

/** Events per group: one result row carries a group's events joined, so per-row protocol costs vanish. */
export const SCAN_GROUP = 1_000;
/** Events per round trip, small enough to keep memory flat. */
export const SCAN_PAGE = 20_000;

interface Group { n: number; lo: string | number | null; hi: string | number | null; c: string | null }
interface EventRow { seq: number | string; canonical: string; hash: string }

/**
 * One page of groups, each event as its hash (fixed-width hex) followed by its canonical JSON.
 * Canonical JSON never holds a raw newline (JSON escapes it), so newline separates events; a group
 * that does not split back into exactly its count is rescanned row by row, so a crafted value
 * gains nothing. ORDER BY inside the aggregate, not only in a subquery, because only that order is
 * guaranteed, and a permuted group could hide a reordering.
 */
const fetchGroups = (exec: Executor, after: number, upTo: number): Promise<Group[]> =>
  rawRows<Group>(exec, sql`
    SELECT g.n, g.lo, g.hi, g.c
    FROM generate_series(${after}::bigint, ${Math.min(after + SCAN_PAGE, upTo) - 1}::bigint, ${SCAN_GROUP}::bigint) AS b(start)
    CROSS JOIN LATERAL (
      SELECT count(*)::int AS n, min(seq) AS lo, max(seq) AS hi, string_agg(hash || canonical, E'\n' ORDER BY seq) AS c
      FROM audit_events WHERE seq > b.start AND seq <= least(b.start + ${SCAN_GROUP}, ${upTo})
    ) AS g
    ORDER BY b.start`);

const fetchRows = (exec: Executor, after: number, upTo: number): Promise<EventRow[]> =>
  rawRows<EventRow>(exec, sql`SELECT seq, canonical, hash FROM audit_events
    WHERE seq > ${after} AND seq <= ${upTo} ORDER BY seq LIMIT ${SCAN_GROUP}`);

/**
 * SHA-256(previous hash as 32 bytes ‖ canonical UTF-8), as chainHash computes it, but through one
 * reused buffer and the one-shot hash (Node >= 20.12): per-event allocations dominated otherwise.
 */
class ChainHasher {
  private buffer = Buffer.alloc(64 * 1024);
  private readonly oneShot = typeof crypto.hash === 'function';

  next(prevHex: string, canonical: string): string {
    if (!this.oneShot) return crypto.createHash('sha256').update(Buffer.from(prevHex, 'hex')).update(canonical, 'utf8').digest('hex');
    if (canonical.length * 3 + 32 > this.buffer.length) this.buffer = Buffer.alloc(canonical.length * 3 + 32);
    this.buffer.write(prevHex, 0, 'hex');
    const bytes = this.buffer.write(canonical, 32, 'utf8');
    return crypto.hash('sha256', this.buffer.subarray(0, 32 + bytes), 'hex');
  }
}

/**
 * Whether the canonical text records `seqText` as its seq. The top-level "seq" key is the last one
 * spelled that way (RFC 8785 sorts keys, only subject/systemId/ticket/v follow it, and a `"seq":`
 * inside a string is escaped), so a backwards search replaces parsing the whole event.
 */
const recordsSeq = (canonical: string, seqText: string): boolean => {
  const at = canonical.lastIndexOf('"seq":');
  return at >= 0 && canonical.startsWith(seqText, at + 6) && canonical.charCodeAt(at + 6 + seqText.length) === 44;
};

const claimedSeq = (canonical: string): string => {
  try { return String((JSON.parse(canonical) as { seq?: unknown }).seq); } catch { return 'nothing (unreadable JSON)'; }
};

/** Walks the chain, checking marks as their seq goes by; stops at the first problem. */
class Walk {
  readonly hasher = new ChainHasher();
  last: ChainPoint;
  private readonly marks: ChainMark[];
  private markIndex = 0;

  constructor(readonly from: ChainPoint, marks: readonly ChainMark[]) {
    this.last = { ...from };
    this.marks = [...marks].filter((m) => m.seq > from.seq).sort((a, b) => a.seq - b.seq);
  }

  /** Accepts the event after `last` if it checks out; the reason otherwise. */
  step(seqText: string, canonical: string, storedHash: string): string | undefined {
    const expected = this.last.seq + 1;
    if (!recordsSeq(canonical, seqText)) {
      const claimed = claimedSeq(canonical);
      if (claimed !== seqText) return `event ${seqText} records seq ${claimed}: events were inserted, removed or reordered`;
    }
    if (this.hasher.next(this.last.hash, canonical) !== storedHash) {
      return `event ${seqText} does not match its stored hash: its content, or the hash of an event before it, was changed`;
    }
    this.last = { seq: expected, hash: storedHash };
    while (this.markIndex < this.marks.length && this.marks[this.markIndex]!.seq === expected) {
      const reason = this.marks[this.markIndex]!.check(storedHash);
      if (reason) return reason;
      this.markIndex += 1;
    }
    return undefined;
  }

  result(problem?: ChainProblem): ScanResult {
    const cut = problem ? undefined : this.marks[this.markIndex];
    return { events: this.last.seq - this.from.seq, last: this.last, problem: problem ?? cut?.beyond(this.last) };
  }
}

/** The fast path: false when anything about the group is off, leaving it to the row-by-row path. */
const walkGroup = (walk: Walk, group: Group): boolean | ChainProblem => {
  const first = walk.last.seq + 1;
  // min, max and count agreeing on a primary key means the seqs are exactly first..first+n-1.
  if (group.n === 0 || group.c === null || Number(group.lo) !== first || Number(group.hi) !== first + group.n - 1) return false;
  const items = group.c.split('\n');
  if (items.length !== group.n) return false;
  for (let i = 0; i < items.length; i += 1) {
    const item = items[i]!;
    if (item.length <= 64) return false;
    const seq = first + i;
    const reason = walk.step(String(seq), item.slice(64), item.slice(0, 64));
    if (reason) return { seq, reason };
  }
  return true;
};

/** The exact path, used only where the fast path saw something wrong: names the first bad event. */
const walkRows = async (exec: Executor, walk: Walk, upTo: number): Promise<ChainProblem | undefined> => {
  while (walk.last.seq < upTo) {
    const rows = await fetchRows(exec, walk.last.seq, upTo);
    if (rows.length === 0) return undefined;
    for (const row of rows) {
      const expected = walk.last.seq + 1;
      const seqText = String(row.seq);
      if (seqText !== String(expected)) return { seq: expected, reason: `event ${expected} is missing: the chain jumps from ${expected - 1} to ${seqText}` };
      const reason = walk.step(seqText, row.canonical, row.hash);
      if (reason) return { seq: expected, reason };
    }
  }
  return undefined;
};

const yieldToIo = (): Promise<void> => new Promise((resolve) => { setImmediate(resolve); });

/**
 * Recomputes the chain after `from` up to `upTo`, checking each mark as its seq goes by, and stops
 * at the first problem. The next page is requested before the current one is hashed, so the
 * database reads while this process computes.
 */
export const scanChain = async (exec: Executor, from: ChainPoint, upTo: number, marks: readonly ChainMark[] = []): Promise<ScanResult> => {
  const walk = new Walk(from, marks);
  let after = from.seq;
  let next = after < upTo ? fetchGroups(exec, after, upTo) : undefined;
  while (next) {
    const groups = await next;
    after = Math.min(after + SCAN_PAGE, upTo);
    next = after < upTo ? fetchGroups(exec, after, upTo) : undefined;
    for (const group of groups) {
      // Hashing is synchronous: without a turn of the event loop the request for the next page
      // would only leave once this one is done, and the database would idle while we hash.
      await yieldToIo();
      const outcome = walkGroup(walk, group);
      if (outcome === true) continue;
      next?.catch(() => undefined);
      if (outcome !== false) return walk.result(outcome);
      return walk.result(await walkRows(exec, walk, upTo));
    }
  }
  return walk.result();
};
