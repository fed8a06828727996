import * as crypto from 'node:crypto';
import { sql } from 'drizzle-orm';
import { rawRows, type Executor } from '../store/database.js';
import { chainHash } from './chain.js';
import { COLUMN_LINE, columnMismatch, groupColumnsMatch, OCCURRED, type ColumnValues, type ParsedEvent } from './chain-columns.js';

/** A position in the chain: event `seq` and its hash (seq 0 is the genesis). */
export interface ChainPoint { seq: number; hash: string }

export interface ChainProblem { seq: number; reason: string }

/**
 * A hash the chain must have at `seq` (the head row, a signed checkpoint). `check` returns a reason
 * when the computed hash disagrees; `beyond` explains a mark past the last event (a cut tail).
 */
export interface ChainMark {
  seq: number;
  /** Which mark speaks first at one seq (lowest first): the head, then checkpoint rows, then the anchor. */
  rank: number;
  check(hash: string): string | undefined;
  beyond(last: ChainPoint): ChainProblem;
}

export interface ScanResult { events: number; last: ChainPoint; problem: ChainProblem | undefined }

/** SHA-256 in hex; the one-shot form (Node >= 20.12) saves an object and three calls per event. */
const hashBytes: (data: Buffer) => string = typeof crypto.hash === 'function'
  ? (data) => crypto.hash('sha256', data, 'hex')
  : (data) => crypto.createHash('sha256').update(data).digest('hex');

/** Events per group: one result row carries a group's events joined, so per-row protocol costs vanish. */
export const SCAN_GROUP = 1_000;
/** Events per round trip, small enough to keep memory flat. */
export const SCAN_PAGE = 20_000;

interface Group { start: string | number; n: number; lo: string | number | null; hi: string | number | null; c: string | null; cols: string | null }
interface EventRow extends ColumnValues { seq: number | string; canonical: string; hash: string }

/**
 * One page of groups, each event as its hash (fixed-width hex) followed by its canonical JSON.
 * Canonical JSON never holds a raw newline (JSON escapes it), so newline separates events; a group
 * that does not split back into exactly its count is rescanned row by row, so a crafted value
 * gains nothing. ORDER BY inside the aggregate, not only in a subquery, because only that order is
 * guaranteed, and a permuted group could hide a reordering.
 */
const fetchGroups = (exec: Executor, after: number, upTo: number): Promise<Group[]> =>
  rawRows<Group>(exec, sql`
    SELECT b.start, g.n, g.lo, g.hi, g.c, g.cols
    FROM generate_series(${after}::bigint, ${Math.min(after + SCAN_PAGE, upTo) - 1}::bigint, ${SCAN_GROUP}::bigint) AS b(start)
    CROSS JOIN LATERAL (
      SELECT count(*)::int AS n, min(seq) AS lo, max(seq) AS hi, string_agg(hash || canonical, E'\n' ORDER BY seq) AS c,
             string_agg(${COLUMN_LINE}, E'\n' ORDER BY seq) AS cols
      FROM audit_events WHERE seq > b.start AND seq <= least(b.start + ${SCAN_GROUP}, ${upTo})
    ) AS g
    ORDER BY b.start`);

const fetchRows = (exec: Executor, after: number, until: number): Promise<EventRow[]> =>
  rawRows<EventRow>(exec, sql`SELECT seq, canonical, hash, action, actor_id, channel, subject_type, subject_id, identity_id, system_id,
      ${OCCURRED} AS occurred
    FROM audit_events WHERE seq > ${after} AND seq <= ${until} ORDER BY seq LIMIT ${SCAN_GROUP}`);

const nextSeq = async (exec: Executor, after: number): Promise<string | undefined> => {
  const [row] = await rawRows<{ seq: string | number }>(exec, sql`SELECT seq FROM audit_events WHERE seq > ${after} ORDER BY seq LIMIT 1`);
  return row === undefined ? undefined : String(row.seq);
};

const NEWLINE = 10;
const COMMA = 44;
const SEQ_KEY = Buffer.from('"seq":');

const ZERO = 48;
const NINE = 57;
/** Digits read into a number exactly (below 2^53); a longer seq is left to the exact path. */
const MAX_DIGITS = 15;

/**
 * Whether the canonical text records `seq` as its seq. The top-level "seq" key is the last one
 * spelled that way (RFC 8785 sorts keys, only subject/systemId/ticket/v follow it, and a `"seq":`
 * inside a string is escaped), so a backwards search replaces parsing the whole event. The digits
 * are compared as a number, without a string per event; RFC 8785 writes no leading zero.
 */
const recordsSeq = (bytes: Buffer, start: number, end: number, seq: number): boolean => {
  const at = bytes.lastIndexOf(SEQ_KEY, end - SEQ_KEY.length);
  if (at < start) return false;
  const digits = at + SEQ_KEY.length;
  let p = digits;
  let value = 0;
  for (let c = bytes[p]!; c >= ZERO && c <= NINE && p - digits < MAX_DIGITS; c = bytes[++p]!) value = value * 10 + (c - ZERO);
  if (p === digits || (bytes[digits] === ZERO && p - digits > 1)) return false;
  return value === seq && bytes[p] === COMMA;
};

const parse = (canonical: string): ParsedEvent | undefined => {
  try { return JSON.parse(canonical) as ParsedEvent; } catch { return undefined; }
};

const byPosition = (a: ChainMark, b: ChainMark): number => a.seq - b.seq || a.rank - b.rank;

/** Walks the chain, checking marks as their seq goes by; stops at the first problem. */
class Walk {
  last: ChainPoint;
  private marks: ChainMark[];
  private markIndex = 0;
  private buffer = Buffer.alloc(1 << 20);
  private endsBuffer = new Int32Array(SCAN_GROUP);

  constructor(readonly from: ChainPoint, marks: readonly ChainMark[]) {
    this.last = { ...from };
    this.marks = [...marks].filter((m) => m.seq > from.seq).sort(byPosition);
  }

  /** Marks read with a page: merged with those still ahead, so memory holds one page's worth. */
  addMarks(more: readonly ChainMark[]): void {
    if (more.length === 0) return;
    this.marks = [...this.marks.slice(this.markIndex), ...more.filter((m) => m.seq > this.last.seq)].sort(byPosition);
    this.markIndex = 0;
  }

  /** Reused buffers of at least `size`: fresh ones per group would be garbage at this rate. */
  bytes(size: number): Buffer {
    if (this.buffer.length < size) this.buffer = Buffer.alloc(size);
    return this.buffer;
  }

  ends(size: number): Int32Array {
    if (this.endsBuffer.length < size) this.endsBuffer = new Int32Array(size);
    return this.endsBuffer;
  }

  /** Moves past an event already found sound; the reason if a mark at its seq disagrees. */
  advance(seq: number, hash: string): string | undefined {
    // In place: a new point per event would be garbage at this rate, and no one holds `last` mid-scan.
    this.last.seq = seq;
    this.last.hash = hash;
    while (this.markIndex < this.marks.length && this.marks[this.markIndex]!.seq === seq) {
      const reason = this.marks[this.markIndex]!.check(hash);
      if (reason) return reason;
      this.markIndex += 1;
    }
    return undefined;
  }

  /** The exact check of the next event, with the reference chainHash: says what is wrong with it. */
  step(seqText: string, row: EventRow): string | undefined {
    const event = parse(row.canonical);
    if (event === undefined) return `event ${seqText} is not readable JSON: its content was changed`;
    const claimed = String(event.seq);
    if (claimed !== seqText) return `event ${seqText} records seq ${claimed}: events were inserted, removed or reordered`;
    if (chainHash(this.last.hash, row.canonical) !== row.hash) {
      return `event ${seqText} does not match its stored hash: its content, or the hash of an event before it, was changed`;
    }
    return columnMismatch(seqText, event, row) ?? this.advance(this.last.seq + 1, row.hash);
  }

  result(problem?: ChainProblem): ScanResult {
    const cut = problem ? undefined : this.marks[this.markIndex];
    return { events: this.last.seq - this.from.seq, last: this.last, problem: problem ?? cut?.beyond(this.last) };
  }
}

const OPEN_BRACE = 123;

/**
 * Where each event of the group ends, or undefined unless the group holds exactly `n` events each
 * shaped as 64 hash characters and a JSON object. A raw newline smuggled into a stored value would
 * otherwise split one event in two, and the first half could pass for the whole.
 */
const eventEnds = (bytes: Buffer, length: number, n: number, ends: Int32Array): boolean => {
  let start = 0;
  for (let i = 0; i < n; i += 1) {
    let end = bytes.indexOf(NEWLINE, start);
    if (end === -1 || end > length) end = length;
    if ((i === n - 1) !== (end === length) || end - start <= 64 || bytes[start + 64] !== OPEN_BRACE) return false;
    ends[i] = end;
    start = end + 1;
  }
  return true;
};

/**
 * The fast path, on the UTF-8 bytes of the whole group: no string per event, and each event is
 * hashed where it lies, after its stored hash has been read and the previous hash written over the
 * 32 bytes just before its canonical text. Anything unexpected returns false, leaving the event to
 * the exact path; only a mark's verdict is final here, since the event itself checked out.
 */
const walkGroup = (walk: Walk, group: Group): boolean | ChainProblem => {
  const first = walk.last.seq + 1;
  // min, max and count agreeing on a primary key means the seqs are exactly first..first+n-1.
  if (group.n === 0 || group.c === null || group.cols === null || Number(group.lo) !== first || Number(group.hi) !== first + group.n - 1) return false;
  if (!groupColumnsMatch(group.c, group.cols, group.n, first)) return false;
  const bytes = walk.bytes(group.c.length * 3);
  const length = bytes.write(group.c, 0, 'utf8');
  const ends = walk.ends(group.n);
  if (!eventEnds(bytes, length, group.n, ends)) return false;
  let start = 0;
  for (let i = 0; i < group.n; i += 1) {
    const end = ends[i]!;
    const seq = first + i;
    if (!recordsSeq(bytes, start + 64, end, seq)) return false;
    const stored = bytes.toString('latin1', start, start + 64);
    bytes.write(walk.last.hash, start + 32, 32, 'hex');
    if (hashBytes(bytes.subarray(start + 32, end)) !== stored) return false;
    const reason = walk.advance(seq, stored);
    if (reason) return { seq, reason };
    start = end + 1;
  }
  return true;
};

const missing = (expected: number, found: string): ChainProblem =>
  ({ seq: expected, reason: `event ${expected} is missing: the chain jumps from ${expected - 1} to ${found}` });

/**
 * The exact path, only for a group the fast path balked at: names the first bad event, or catches
 * up to `until` (then the fast path resumes), or finds that no events are left at all.
 */
const walkRows = async (exec: Executor, walk: Walk, until: number): Promise<ChainProblem | 'caught up' | 'ended'> => {
  while (walk.last.seq < until) {
    const rows = await fetchRows(exec, walk.last.seq, until);
    if (rows.length === 0) {
      const found = await nextSeq(exec, walk.last.seq);
      return found === undefined ? 'ended' : missing(walk.last.seq + 1, found);
    }
    for (const row of rows) {
      const expected = walk.last.seq + 1;
      const seqText = String(row.seq);
      if (seqText !== String(expected)) return missing(expected, seqText);
      const reason = walk.step(seqText, row);
      if (reason) return { seq: expected, reason };
    }
  }
  return 'caught up';
};

const yieldToIo = (): Promise<void> => new Promise((resolve) => { setImmediate(resolve); });

/** Marks read page by page, for (after, until]: there can be millions of checkpoints, never all in memory. */
export type PageMarks = (after: number, until: number) => Promise<ChainMark[]>;

interface Page { groups: Group[]; marks: ChainMark[] }

const fetchPage = async (exec: Executor, after: number, upTo: number, pageMarks: PageMarks | undefined): Promise<Page> => ({
  groups: await fetchGroups(exec, after, upTo),
  marks: pageMarks ? await pageMarks(after, Math.min(after + SCAN_PAGE, upTo)) : [],
});

/**
 * Recomputes the chain after `from` up to `upTo`, checking each mark (given, or read with its
 * page) as its seq goes by, and stops at the first problem. The next page is requested before the
 * current one is hashed, so the database reads while this process computes.
 */
export const scanChain = async (
  exec: Executor, from: ChainPoint, upTo: number, marks: readonly ChainMark[] = [], pageMarks?: PageMarks,
): Promise<ScanResult> => {
  const walk = new Walk(from, marks);
  let after = from.seq;
  let next = after < upTo ? fetchPage(exec, after, upTo, pageMarks) : undefined;
  while (next) {
    const page = await next;
    walk.addMarks(page.marks);
    after = Math.min(after + SCAN_PAGE, upTo);
    next = after < upTo ? fetchPage(exec, after, upTo, pageMarks) : undefined;
    for (const group of page.groups) {
      // Hashing is synchronous: without a turn of the event loop the request for the next page
      // would only leave once this one is done, and the database would idle while we hash.
      await yieldToIo();
      const outcome = walkGroup(walk, group);
      if (outcome === true) continue;
      const slow = outcome === false ? await walkRows(exec, walk, Math.min(Number(group.start) + SCAN_GROUP, upTo)) : outcome;
      if (slow === 'caught up') continue;
      next?.catch(() => undefined);
      return walk.result(slow === 'ended' ? undefined : slow);
    }
  }
  return walk.result();
};
