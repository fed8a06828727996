/**
 * A session's recording as it is made, whatever the protocol: each line is hashed into the digest
 * the `proxy_session.ended` event will carry, and stored in batches (a full batch at once, else
 * after a short wait), in order. A failed write is reported and not retried: the digest still
 * covers every line the proxy saw, so the gap shows as a verification mismatch.
 */
import { RecordingDigest } from '../domain/proxy-recording.js';
import { appendProxyStatements } from '../operations/end-proxy-session.js';
import type { Context } from '../work/context.js';

/**
 * A batch is written when it holds this many lines or characters, else after `flushMs`. Each write
 * costs the database a statement and a commit besides its rows: at 1,000 lines a busy PostgreSQL
 * session's recording takes about half the server CPU a line that it did at 100. The size bound
 * keeps an SSH recording's batches (asciicast lines of up to tens of KiB) about as large as before.
 */
const WRITE_BATCH = 1000;
const WRITE_BATCH_CHARS = 2 * 1024 * 1024;
/** Lines not yet stored beyond this (in characters) make the writer `behind`: a proxy relaying bulk output then waits for it. */
const MAX_UNWRITTEN = 4 * 1024 * 1024;

export class RecordingWriter {
  private readonly digest = new RecordingDigest();
  private batch: string[] = [];
  private batchChars = 0;
  private writing: Promise<void> = Promise.resolve();
  private timer: NodeJS.Timeout | undefined;
  private unwritten = 0;
  private waiting: (() => void)[] = [];

  constructor(private readonly ctx: Context, private readonly sessionId: string, private readonly flushMs: number,
    private readonly onError: (error: Error) => void) {}

  /** Lines so far; the next line's sequence number is this plus one. */
  get lines(): number { return this.digest.statements; }

  /**
   * More is waiting to be stored than the bound allows: without backpressure a host printing faster
   * than the database stores would grow the proxy's memory without limit (measured: +250 MiB for a
   * 100 MiB read). The caller pauses its source and resumes at `caughtUp()`.
   */
  get behind(): boolean { return this.unwritten > MAX_UNWRITTEN; }

  /** Resolves once the unwritten lines are within the bound again. */
  caughtUp(): Promise<void> {
    return this.behind ? new Promise((resolve) => this.waiting.push(resolve)) : Promise.resolve();
  }

  add(line: string): void {
    this.unwritten += line.length;
    this.digest.add(line);
    this.batch.push(line);
    this.batchChars += line.length;
    if (this.batch.length >= WRITE_BATCH || this.batchChars >= WRITE_BATCH_CHARS) this.flush();
    else this.timer ??= setTimeout(() => this.flush(), this.flushMs);
  }

  /** Writes what is left and waits for every write: then `lines` and `sha256()` are final. */
  async finish(): Promise<{ lines: number; sha256: string }> {
    this.flush();
    await this.writing;
    return { lines: this.digest.statements, sha256: this.digest.hex() };
  }

  private flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    const batch = this.batch;
    if (batch.length === 0) return;
    const size = this.batchChars;
    this.batch = [];
    this.batchChars = 0;
    const firstSeq = this.digest.statements - batch.length + 1;
    this.writing = this.writing.then(() => appendProxyStatements(this.ctx, this.sessionId, firstSeq, batch))
      .catch((error: unknown) => this.onError(error as Error))
      .finally(() => this.written(size));
  }

  private written(size: number): void {
    this.unwritten -= size;
    if (this.behind) return;
    const waiting = this.waiting;
    this.waiting = [];
    for (const resolve of waiting) resolve();
  }
}
