/**
 * The few pieces of the PostgreSQL wire protocol (v3) the proxy speaks itself: framing of what a
 * client sends, the server's messages it writes (authentication requests, errors, notices), and the
 * fields it reads from upstream replies. Messages the proxy sends upstream are built with
 * node-postgres's `pg-protocol` serializer; everything else passes through untouched.
 */

/** A startup packet is small (PostgreSQL itself refuses over 10000 bytes). */
export const MAX_STARTUP_BYTES = 10_000;
export const PROTOCOL_3 = 196608;
export const SSL_REQUEST = 80877103;
export const GSS_REQUEST = 80877104;
export const CANCEL_REQUEST = 80877102;

export class ProtocolError extends Error {
  constructor(message: string, readonly code = '08P01') { super(message); }
}

export interface Message { type: string; body: Buffer; raw: Buffer }

/**
 * Collects bytes and hands out whole messages; a declared length beyond `maxBytes` is refused
 * before any of its body is buffered, so an oversized message costs no memory.
 */
export class MessageReader {
  private buffer: Buffer = Buffer.alloc(0);

  constructor(private readonly maxBytes: number) {}

  push(chunk: Buffer): void {
    this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
  }

  get pending(): number { return this.buffer.length; }

  /** The startup-phase packet (no type byte): its code and body, or undefined until whole. */
  startup(): { code: number; body: Buffer } | undefined {
    if (this.buffer.length < 4) return undefined;
    const length = this.buffer.readInt32BE(0);
    if (length < 8 || length > MAX_STARTUP_BYTES) throw new ProtocolError(`invalid startup packet length ${length}`);
    if (this.buffer.length < length) return undefined;
    const packet = { code: this.buffer.readInt32BE(4), body: this.buffer.subarray(8, length) };
    this.buffer = this.buffer.subarray(length);
    return packet;
  }

  /**
   * Every whole message now buffered, as one slice to pass on, calling `observe` for each whose type
   * code `wanted` holds. The others (row descriptions and data, mostly) are framed past without an
   * object built for them: a relay touches every message, and most are rows it never reads.
   */
  takeWhole(wanted: ReadonlySet<number>, observe: (m: Message) => void): Buffer | undefined {
    const buf = this.buffer;
    let at = 0;
    while (buf.length - at >= 5) {
      const length = buf.readInt32BE(at + 1);
      this.check(length);
      const end = at + 1 + length;
      if (buf.length < end) break;
      const code = buf[at]!;
      if (wanted.has(code)) observe({ type: String.fromCharCode(code), body: buf.subarray(at + 5, end), raw: buf.subarray(at, end) });
      at = end;
    }
    if (at === 0) return undefined;
    this.buffer = buf.subarray(at);
    return at === buf.length ? buf : buf.subarray(0, at);
  }

  next(): Message | undefined {
    if (this.buffer.length < 5) return undefined;
    const length = this.buffer.readInt32BE(1);
    this.check(length);
    if (this.buffer.length < length + 1) return undefined;
    const raw = this.buffer.subarray(0, length + 1);
    this.buffer = this.buffer.subarray(length + 1);
    return { type: String.fromCharCode(raw[0]!), body: raw.subarray(5), raw };
  }

  /** A declared length is refused before any of its body is buffered. */
  private check(length: number): void {
    if (length < 4) throw new ProtocolError(`invalid message length ${length}`);
    if (length + 1 > this.maxBytes) throw new ProtocolError(`message of ${length} bytes is over the limit of ${this.maxBytes}`, '54000');
  }
}

/** Reads NUL-terminated strings and integers from a message body in order. */
export class BodyReader {
  private offset = 0;
  constructor(private readonly body: Buffer) {}

  cstring(): string {
    const end = this.body.indexOf(0, this.offset);
    if (end < 0) throw new ProtocolError('a string in the message is not terminated');
    const text = this.body.toString('utf8', this.offset, end);
    this.offset = end + 1;
    return text;
  }

  int16(): number { this.need(2); const v = this.body.readInt16BE(this.offset); this.offset += 2; return v; }
  int32(): number { this.need(4); const v = this.body.readInt32BE(this.offset); this.offset += 4; return v; }

  bytes(n: number): Buffer { this.need(n); const v = this.body.subarray(this.offset, this.offset + n); this.offset += n; return v; }

  get done(): boolean { return this.offset >= this.body.length; }

  private need(n: number): void {
    if (this.offset + n > this.body.length) throw new ProtocolError('the message is shorter than its fields');
  }
}

/** key=value pairs of a startup packet's body. */
export const startupParameters = (body: Buffer): Map<string, string> => {
  const reader = new BodyReader(body);
  const params = new Map<string, string>();
  for (;;) {
    const key = reader.cstring();
    if (key === '') return params;
    params.set(key, reader.cstring());
  }
};

const message = (type: string, body: Buffer): Buffer => {
  const head = Buffer.alloc(5);
  head.write(type, 0, 'latin1');
  head.writeInt32BE(body.length + 4, 1);
  return Buffer.concat([head, body]);
};

const int32 = (n: number): Buffer => { const b = Buffer.alloc(4); b.writeInt32BE(n); return b; };
const cstring = (text: string): Buffer => Buffer.from(`${text}\0`, 'utf8');

export const authenticationCleartext = (): Buffer => message('R', int32(3));
export const authenticationOk = (): Buffer => message('R', int32(0));

/** ErrorResponse ('E') or NoticeResponse ('N'): severity, SQLSTATE, message. */
export const report = (type: 'E' | 'N', severity: 'FATAL' | 'ERROR' | 'WARNING' | 'NOTICE', code: string, text: string): Buffer =>
  message(type, Buffer.concat([
    Buffer.from('S'), cstring(severity), Buffer.from('V'), cstring(severity), Buffer.from('C'), cstring(code),
    Buffer.from('M'), cstring(text), Buffer.from([0]),
  ]));

export const fatal = (code: string, text: string): Buffer => report('E', 'FATAL', code, text);

/** The fields of an ErrorResponse or NoticeResponse body, by their one-letter codes. */
export const reportFields = (body: Buffer): Map<string, string> => {
  const fields = new Map<string, string>();
  const reader = new BodyReader(body);
  while (!reader.done) {
    const code = reader.bytes(1).toString('latin1');
    if (code === '\0') break;
    fields.set(code, reader.cstring());
  }
  return fields;
};

export const readyForQuery = (status: 'I' | 'T' | 'E' = 'I'): Buffer => message('Z', Buffer.from(status, 'latin1'));
