/**
 * What an SFTP session did, as recording markers: each request that opens, closes or changes
 * something is matched by id to the host's reply and recorded when the reply comes, with its outcome
 * (`sftp: remove /srv/a.txt`, `sftp: remove /srv/b.txt failed: no such file`). Reads and writes are
 * counted per open file and recorded at its close (`sftp: close /srv/a.txt (0 bytes read, 1048576
 * bytes written)`); the bytes themselves are never kept. A packet whose fields do not fit is
 * recorded as unparseable and relayed as it is: the host answers it as it sees fit.
 */
import { parseReply, parseRequest, SftpFramer, STATUS_OK, statusWords, type Framed, type SftpPacket, type SftpReply, type SftpRequest } from './sftp-wire.js';

/**
 * Requests waiting for their reply, and files open, are kept at most this many each: OpenSSH's
 * client keeps 64 requests in flight, and a client that goes far beyond is closed rather than
 * allowed to grow the proxy's memory.
 */
export const MAX_TRACKED = 4096;

interface OpenFile { path: string; directory: boolean; read: number; written: number }

type Waiting =
  | { kind: 'open'; path: string; mode: string }
  | { kind: 'opendir'; path: string }
  | { kind: 'close'; handle: string }
  | { kind: 'read'; handle: string }
  | { kind: 'write'; handle: string; bytes: number }
  | { kind: 'change'; what: string };

/** `stop`: the transfer must be closed, for the reason given (already recorded). */
export type Verdict = { stop: false } | { stop: true; reason: string };
const GO: Verdict = { stop: false };

export class SftpLog {
  private readonly fromClient = new SftpFramer();
  private readonly fromHost = new SftpFramer();
  private readonly waiting = new Map<number, Waiting>();
  private readonly files = new Map<string, OpenFile>();
  /** Set once the host answers with a version other than 3, whose packets this does not read. */
  private unread = false;
  private finished = false;

  constructor(private readonly record: (marker: string) => void) {}

  client(chunk: Buffer): Verdict {
    return this.each(this.fromClient.feed(chunk), 'client', (packet) => {
      const parsed = parseRequest(packet);
      if (!parsed) return this.unparseable('client', packet.type, packet.length);
      return this.request(parsed);
    });
  }

  host(chunk: Buffer): Verdict {
    return this.each(this.fromHost.feed(chunk), 'host', (packet) => {
      const parsed = parseReply(packet);
      if (!parsed) return this.unparseable('host', packet.type, packet.length);
      this.reply(parsed);
      return GO;
    });
  }

  /** Files still open when the transfer ends (the client left, or the session was cut), with their counts. */
  finish(): void {
    if (this.finished) return;
    this.finished = true;
    for (const file of this.files.values()) if (!file.directory) this.record(`sftp: ${file.path} left open (${counts(file)})`);
    this.files.clear();
    this.waiting.clear();
  }

  private each(framed: Framed[], side: 'client' | 'host', onPacket: (p: SftpPacket) => Verdict): Verdict {
    for (const item of framed) {
      if ('oversized' in item) return this.stop(`sftp: a packet of ${item.oversized} bytes from the ${side} is over the limit; the file transfer was closed`);
      if ('empty' in item) { this.unparseable(side, undefined, 0); continue; }
      if (this.unread) continue;
      const verdict = onPacket(item.packet);
      if (verdict.stop) return verdict;
    }
    return GO;
  }

  private stop(reason: string): Verdict {
    this.record(reason);
    this.finish();
    return { stop: true, reason };
  }

  private unparseable(side: 'client' | 'host', type: number | undefined, length: number): Verdict {
    this.record(`sftp: unparseable packet from the ${side} (${type === undefined ? 'no type' : `type ${type}`}, ${length} bytes), relayed as it is`);
    return GO;
  }

  private request(r: SftpRequest): Verdict {
    if (r.kind === 'init') return GO;
    let waiting: Waiting | undefined;
    switch (r.kind) {
      case 'open': waiting = { kind: 'open', path: r.path, mode: r.mode }; break;
      case 'opendir': waiting = { kind: 'opendir', path: r.path }; break;
      case 'close': waiting = { kind: 'close', handle: r.handle }; break;
      case 'read': waiting = { kind: 'read', handle: r.handle }; break;
      case 'write': waiting = { kind: 'write', handle: r.handle, bytes: r.bytes }; break;
      case 'change': waiting = { kind: 'change', what: r.what }; break;
      case 'fsetstat': waiting = { kind: 'change', what: `setstat ${this.files.get(r.handle)?.path ?? 'an unknown handle'} (${r.attributes})` }; break;
      default: return GO;
    }
    if (this.waiting.size >= MAX_TRACKED) {
      return this.stop(`sftp: more than ${MAX_TRACKED} requests waiting for the host; the file transfer was closed`);
    }
    this.waiting.set(r.id, waiting);
    return GO;
  }

  private reply(r: SftpReply): void {
    if (r.kind === 'version') {
      if (r.version !== 3) { this.unread = true; this.record(`sftp: version ${r.version}, whose operations are not read`); }
      return;
    }
    const waiting = this.waiting.get(r.id);
    if (!waiting) return;
    this.waiting.delete(r.id);
    const failed = r.kind === 'status' && r.code !== STATUS_OK ? ` failed: ${statusWords(r.code)}` : '';
    const file = 'handle' in waiting ? this.files.get(waiting.handle) : undefined;
    switch (waiting.kind) {
      case 'open': case 'opendir': {
        const directory = waiting.kind === 'opendir';
        const what = directory ? `list ${waiting.path}` : `open ${waiting.path} (${waiting.mode})`;
        if (r.kind === 'handle' && this.files.size < MAX_TRACKED) this.files.set(r.handle, { path: waiting.path, directory, read: 0, written: 0 });
        this.record(`sftp: ${what}${r.kind === 'handle' ? '' : failed || ' failed'}`);
        return;
      }
      case 'read': if (file && r.kind === 'data') file.read += r.bytes; return;
      case 'write':
        if (file && r.kind === 'status' && !failed) file.written += waiting.bytes;
        else if (file) this.record(`sftp: write to ${file.path}${failed || ' failed'}`);
        return;
      case 'close':
        this.files.delete(waiting.handle);
        if (file && !file.directory) this.record(`sftp: close ${file.path} (${counts(file)})${failed}`);
        return;
      case 'change': this.record(`sftp: ${waiting.what}${r.kind === 'status' ? failed : ''}`);
    }
  }
}

const counts = (file: OpenFile) => `${file.read} bytes read, ${file.written} bytes written`;
