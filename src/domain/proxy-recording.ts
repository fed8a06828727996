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

export const canonicalStatement = (s: RecordedStatement): string => JSON.stringify({
  seq: s.seq, at: s.at.toISOString(), durationUs: s.durationUs, protocol: s.protocol, text: s.text,
  params: s.params, tags: s.tags, rows: s.rows, error: s.error,
});

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
