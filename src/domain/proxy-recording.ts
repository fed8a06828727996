/**
 * The recording of a proxied session, in its canonical form: one JSON line per statement, fields
 * in a fixed order, and the SHA-256 of the lines joined by newlines. The same text is stored and
 * hashed, so anyone holding the stored lines can recompute the digest the audit chain carries. Pure.
 */
import { createHash, type Hash } from 'node:crypto';

export const PROXY_END_REASONS = [
  'client_closed', 'grant_ended', 'grant_revoked', 'identity_inactive', 'access_denied', 'upstream_closed', 'protocol_error', 'proxy_stopped',
] as const;
export type ProxyEndReason = (typeof PROXY_END_REASONS)[number];

/** Bind parameters of a statement: kept (as text, null for SQL NULL, or a byte count when binary) or redacted. */
export type RecordedParams = { redacted: number } | (string | null | { binaryBytes: number })[];

export interface RecordedStatement {
  seq: number;
  /** When the client sent it, and how long until the server finished it (microseconds). */
  at: Date;
  durationUs: number;
  protocol: 'simple' | 'extended';
  text: string;
  params: RecordedParams | null;
  /** CommandComplete tags, in order (a simple query may hold several statements). */
  tags: string[];
  /** Rows the tags report (SELECT, INSERT, UPDATE, DELETE, COPY, FETCH, MOVE, MERGE). */
  rows: number;
  /** SQLSTATE and message of an error, if the statement failed. */
  error: { code: string; message: string } | null;
}

/** The row count a CommandComplete tag reports: its last number (INSERT's is after the oid). */
export const rowsOfTag = (tag: string): number => {
  const match = /^(SELECT|INSERT \d+|UPDATE|DELETE|COPY|FETCH|MOVE|MERGE) (\d+)$/.exec(tag);
  return match ? Number(match[2]) : 0;
};

/** The last instant written and its ISO text: a busy session finishes several statements a millisecond. */
let lastAt = { ms: Number.NaN, iso: '' };

const isoOf = (at: Date): string => {
  const ms = at.getTime();
  if (ms !== lastAt.ms) lastAt = { ms, iso: at.toISOString() };
  return lastAt.iso;
};

/**
 * Exactly `JSON.stringify({ seq, at, durationUs, protocol, text, params, tags, rows, error })`, the
 * canonical line (src/domain/proxy-recording.test.ts holds it to that), written out field by field:
 * the proxy makes one a transaction, and only the free-text fields need JSON's escaping. The numbers
 * are whole and finite, which print the same either way.
 */
export const canonicalStatement = (s: RecordedStatement): string =>
  `{"seq":${s.seq},"at":"${isoOf(s.at)}","durationUs":${s.durationUs},"protocol":"${s.protocol}","text":${JSON.stringify(s.text)},`
  + `"params":${JSON.stringify(s.params)},"tags":${JSON.stringify(s.tags)},"rows":${s.rows},"error":${JSON.stringify(s.error)}}`;

/** The digest of a recording, fed line by line as statements finish. */
export class RecordingDigest {
  private readonly hash: Hash = createHash('sha256');
  private count = 0;

  add(line: string): void {
    this.hash.update(this.count === 0 ? line : `\n${line}`);
    this.count += 1;
  }

  get statements(): number { return this.count; }

  hex(): string { return this.hash.copy().digest('hex'); }
}

/** The digest of stored lines, in order: what verification recomputes. */
export const recordingSha256 = (lines: readonly string[]): string => {
  const digest = new RecordingDigest();
  for (const line of lines) digest.add(line);
  return digest.hex();
};
