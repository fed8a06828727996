/**
 * The few pieces of the SFTP protocol (version 3, draft-ietf-secsh-filexfer-02, which is what
 * OpenSSH speaks) that the SSH proxy reads to record a file transfer: the framing of each
 * direction's packets and the fields of the requests and replies that say what was done. The bytes
 * pass on untouched; this only looks. File content is never buffered: of each packet only its first
 * HEAD_BYTES are kept, enough for every field read here (a WRITE's or DATA's length is the packet's
 * length less its header), and the rest is counted past.
 */
import ssh2 from 'ssh2';

const { OPEN_MODE, STATUS_CODE } = ssh2.utils.sftp;

/**
 * Beyond this declared length a packet is refused and the transfer closed: OpenSSH's sftp-server
 * refuses anything over 256 KiB itself, and a length the proxy skipped past blindly would let the
 * rest of the stream go by unread.
 */
export const MAX_PACKET_BYTES = 1024 * 1024;
/** Enough for a request with two paths of Linux's PATH_MAX (4,096) and its attributes. */
const HEAD_BYTES = 16 * 1024;

export const FXP = {
  INIT: 1, VERSION: 2, OPEN: 3, CLOSE: 4, READ: 5, WRITE: 6, SETSTAT: 9, FSETSTAT: 10, OPENDIR: 11,
  REMOVE: 13, MKDIR: 14, RMDIR: 15, RENAME: 18, SYMLINK: 20,
  STATUS: 101, HANDLE: 102, DATA: 103, EXTENDED: 200,
} as const;

/** One framed packet: its type, declared length (type byte included) and first bytes after the type. */
export interface SftpPacket { type: number; length: number; head: Buffer }

export type Framed = { packet: SftpPacket } | { oversized: number } | { empty: true };

/** Splits one direction of an SFTP channel into packets, keeping at most HEAD_BYTES of each. */
export class SftpFramer {
  private lengthBytes: number[] = [];
  private length = 0;
  private head: Buffer | undefined;
  private headFilled = 0;
  private skip = 0;

  /** Each packet (or violation) that `chunk` completes, in order. After an `oversized`, stop feeding. */
  feed(chunk: Buffer): Framed[] {
    const out: Framed[] = [];
    let at = 0;
    while (at < chunk.length) {
      if (this.skip > 0) {
        const n = Math.min(this.skip, chunk.length - at);
        this.skip -= n;
        at += n;
        continue;
      }
      if (this.head === undefined) {
        this.lengthBytes.push(chunk[at]!);
        at += 1;
        if (this.lengthBytes.length < 4) continue;
        this.length = Buffer.from(this.lengthBytes).readUInt32BE(0);
        this.lengthBytes = [];
        if (this.length > MAX_PACKET_BYTES) { out.push({ oversized: this.length }); return out; }
        if (this.length === 0) { out.push({ empty: true }); continue; }
        this.head = Buffer.allocUnsafe(Math.min(this.length, HEAD_BYTES));
        this.headFilled = 0;
      }
      const n = Math.min(this.head.length - this.headFilled, chunk.length - at);
      chunk.copy(this.head, this.headFilled, at, at + n);
      this.headFilled += n;
      at += n;
      if (this.headFilled === this.head.length) {
        out.push({ packet: { type: this.head[0]!, length: this.length, head: this.head.subarray(1) } });
        this.skip = this.length - this.head.length;
        this.head = undefined;
      }
    }
    return out;
  }
}

/** Reads the draft's types from a packet's head; past its end it throws, and the packet is unparseable. */
class Reader {
  private at = 0;
  constructor(private readonly buf: Buffer) {}
  uint32(): number {
    if (this.at + 4 > this.buf.length) throw new RangeError('short packet');
    const v = this.buf.readUInt32BE(this.at);
    this.at += 4;
    return v;
  }
  uint64(): bigint {
    if (this.at + 8 > this.buf.length) throw new RangeError('short packet');
    const v = this.buf.readBigUInt64BE(this.at);
    this.at += 8;
    return v;
  }
  bytes(): Buffer {
    const n = this.uint32();
    if (this.at + n > this.buf.length) throw new RangeError('short packet');
    const v = this.buf.subarray(this.at, this.at + n);
    this.at += n;
    return v;
  }
  /** Paths and names: UTF-8 in practice; other bytes are shown lossily. */
  text(): string { return this.bytes().toString('utf8'); }
  /** Where the next field starts, to count what follows a header. */
  get offset(): number { return this.at; }
}

const ATTR = { SIZE: 0x1, UIDGID: 0x2, PERMISSIONS: 0x4, ACMODTIME: 0x8, EXTENDED: 0x80000000 } as const;

/** What a SETSTAT changes, in words: `mode 0644, size 0`. */
const attributes = (r: Reader): string => {
  const flags = r.uint32();
  const parts: string[] = [];
  if (flags & ATTR.SIZE) parts.push(`size ${r.uint64()}`);
  if (flags & ATTR.UIDGID) parts.push(`owner ${r.uint32()}:${r.uint32()}`);
  if (flags & ATTR.PERMISSIONS) parts.push(`mode ${(r.uint32() & 0o7777).toString(8).padStart(4, '0')}`);
  if (flags & ATTR.ACMODTIME) { r.uint32(); r.uint32(); parts.push('times'); }
  return parts.join(', ');
};

const MODES: [number, string][] = [[OPEN_MODE.READ, 'read'], [OPEN_MODE.WRITE, 'write'], [OPEN_MODE.APPEND, 'append'],
  [OPEN_MODE.CREAT, 'create'], [OPEN_MODE.TRUNC, 'truncate'], [OPEN_MODE.EXCL, 'exclusive']];

/** `read`, `write,create,truncate`: how a file was opened. */
export const openMode = (flags: number): string => MODES.filter(([bit]) => flags & bit).map(([, name]) => name).join(',') || 'none';

const STATUS_WORDS = new Map(Object.entries(STATUS_CODE).map(([name, code]) => [code as number, name.toLowerCase().replaceAll('_', ' ')]));
export const statusWords = (code: number): string => STATUS_WORDS.get(code) ?? `status ${code}`;
export const STATUS_OK = STATUS_CODE.OK as number;

/** A request the recording cares about; other requests (stat, readdir, realpath…) are relayed unread. */
export type SftpRequest =
  | { kind: 'init'; version: number }
  | { kind: 'open'; id: number; path: string; mode: string }
  | { kind: 'opendir'; id: number; path: string }
  | { kind: 'close'; id: number; handle: string }
  | { kind: 'read'; id: number; handle: string }
  | { kind: 'write'; id: number; handle: string; bytes: number }
  | { kind: 'change'; id: number; what: string }
  | { kind: 'fsetstat'; id: number; handle: string; attributes: string }
  | { kind: 'other'; id: number };

/** A reply the recording matches to its request by id. */
export type SftpReply =
  | { kind: 'version'; version: number }
  | { kind: 'status'; id: number; code: number }
  | { kind: 'handle'; id: number; handle: string }
  | { kind: 'data'; id: number; bytes: number }
  | { kind: 'other'; id: number };

/** Handles are opaque bytes; as a map key, in hex. */
const handleOf = (r: Reader) => r.bytes().toString('hex');

/** Extensions that change something, as OpenSSH's client sends them. Others (statvfs, fsync, limits…) only read. */
const extended = (id: number, r: Reader): SftpRequest => {
  const name = r.text();
  if (name === 'posix-rename@openssh.com') return { kind: 'change', id, what: `rename ${r.text()} to ${r.text()}` };
  if (name === 'hardlink@openssh.com') return { kind: 'change', id, what: `hardlink ${r.text()} to ${r.text()}` };
  if (name === 'lsetstat@openssh.com') { const path = r.text(); return { kind: 'change', id, what: `setstat ${path} (${attributes(r)})` }; }
  if (name === 'copy-data') return { kind: 'change', id, what: 'copy-data between open files' };
  return { kind: 'other', id };
};

const request = (type: number, r: Reader): SftpRequest => {
  if (type === FXP.INIT) return { kind: 'init', version: r.uint32() };
  const id = r.uint32();
  switch (type) {
    case FXP.OPEN: { const path = r.text(); return { kind: 'open', id, path, mode: openMode(r.uint32()) }; }
    case FXP.OPENDIR: return { kind: 'opendir', id, path: r.text() };
    case FXP.CLOSE: return { kind: 'close', id, handle: handleOf(r) };
    case FXP.READ: return { kind: 'read', id, handle: handleOf(r) };
    case FXP.REMOVE: return { kind: 'change', id, what: `remove ${r.text()}` };
    case FXP.MKDIR: return { kind: 'change', id, what: `mkdir ${r.text()}` };
    case FXP.RMDIR: return { kind: 'change', id, what: `rmdir ${r.text()}` };
    case FXP.RENAME: return { kind: 'change', id, what: `rename ${r.text()} to ${r.text()}` };
    // OpenSSH's client and server swap the draft's order: the target comes first, then the link (OpenSSH's PROTOCOL file).
    case FXP.SYMLINK: { const target = r.text(); return { kind: 'change', id, what: `symlink ${r.text()} to ${target}` }; }
    case FXP.SETSTAT: { const path = r.text(); return { kind: 'change', id, what: `setstat ${path} (${attributes(r)})` }; }
    case FXP.FSETSTAT: { const handle = handleOf(r); return { kind: 'fsetstat', id, handle, attributes: attributes(r) }; }
    case FXP.EXTENDED: return extended(id, r);
    default: return { kind: 'other', id };
  }
};

/** A WRITE's content is not in its head: its size is what the packet declares beyond the fields before it. */
const write = (packet: SftpPacket, r: Reader): SftpRequest => {
  const id = r.uint32();
  const handle = handleOf(r);
  r.uint64();
  const declared = r.uint32();
  const available = packet.length - 1 - r.offset;
  if (declared > available) throw new RangeError('short packet');
  return { kind: 'write', id, handle, bytes: declared };
};

/** The request in a client's packet, or undefined when its fields do not fit its length. */
export const parseRequest = (packet: SftpPacket): SftpRequest | undefined => {
  const r = new Reader(packet.head);
  try {
    return packet.type === FXP.WRITE ? write(packet, r) : request(packet.type, r);
  } catch {
    return undefined;
  }
};

/** The reply in a server's packet, or undefined when its fields do not fit its length. */
export const parseReply = (packet: SftpPacket): SftpReply | undefined => {
  const r = new Reader(packet.head);
  try {
    if (packet.type === FXP.VERSION) return { kind: 'version', version: r.uint32() };
    const id = r.uint32();
    if (packet.type === FXP.STATUS) return { kind: 'status', id, code: r.uint32() };
    if (packet.type === FXP.HANDLE) return { kind: 'handle', id, handle: handleOf(r) };
    if (packet.type === FXP.DATA) {
      const declared = r.uint32();
      if (declared > packet.length - 1 - r.offset) throw new RangeError('short packet');
      return { kind: 'data', id, bytes: declared };
    }
    return { kind: 'other', id };
  } catch {
    return undefined;
  }
};
