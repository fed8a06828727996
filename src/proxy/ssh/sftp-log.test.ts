import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { MAX_TRACKED, SftpLog } from './sftp-log.js';
import { FXP, MAX_PACKET_BYTES } from './sftp-wire.js';

const u32 = (n: number) => { const b = Buffer.alloc(4); b.writeUInt32BE(n); return b; };
const u64 = (n: number) => { const b = Buffer.alloc(8); b.writeBigUInt64BE(BigInt(n)); return b; };
const str = (s: string | Buffer) => Buffer.concat([u32(Buffer.byteLength(s)), Buffer.from(s)]);
const packet = (type: number, ...fields: Buffer[]) => { const body = Buffer.concat(fields); return Buffer.concat([u32(body.length + 1), Buffer.from([type]), body]); };

const status = (id: number, code = 0) => packet(FXP.STATUS, u32(id), u32(code), str(''), str(''));
const handle = (id: number, h: string) => packet(FXP.HANDLE, u32(id), str(h));

const logged = () => {
  const markers: string[] = [];
  return { markers, log: new SftpLog((m) => markers.push(m)) };
};

/** Feeds `bytes` one byte at a time, as the worst split a stream could bring. */
const byteByByte = (feed: (chunk: Buffer) => unknown, bytes: Buffer) => { for (const b of bytes) feed(Buffer.from([b])); };

describe('the record of an SFTP session', () => {
  it('matches requests to replies however the stream is split, counting a file\'s bytes without keeping them', () => {
    const { markers, log } = logged();
    const content = Buffer.alloc(70_000, 0x41);
    byteByByte((c) => log.client(c), Buffer.concat([
      packet(FXP.INIT, u32(3)),
      packet(FXP.OPEN, u32(1), str('/srv/a.txt'), u32(0x1a), u32(0)),
    ]));
    byteByByte((c) => log.host(c), Buffer.concat([packet(FXP.VERSION, u32(3)), handle(1, 'h1')]));
    log.client(Buffer.concat([packet(FXP.WRITE, u32(2), str('h1'), u64(0), str(content)), packet(FXP.CLOSE, u32(3), str('h1'))]));
    log.host(Buffer.concat([status(2), status(3)]));
    assert.deepEqual(markers, ['sftp: open /srv/a.txt (write,create,truncate)', 'sftp: close /srv/a.txt (0 bytes read, 70000 bytes written)']);
  });

  it('records a change with its outcome, and a failed open', () => {
    const { markers, log } = logged();
    log.client(Buffer.concat([
      packet(FXP.REMOVE, u32(1), str('/srv/gone')),
      packet(FXP.RENAME, u32(2), str('/srv/a'), str('/srv/b')),
      packet(FXP.SETSTAT, u32(3), str('/srv/b'), u32(0x4 | 0x1), u64(0), u32(0o100640)),
      packet(FXP.OPEN, u32(4), str('/etc/shadow'), u32(0x1), u32(0)),
      packet(FXP.EXTENDED, u32(5), str('posix-rename@openssh.com'), str('/srv/b'), str('/srv/c')),
    ]));
    log.host(Buffer.concat([status(1, 2), status(2), status(3), status(4, 3), status(5)]));
    assert.deepEqual(markers, ['sftp: remove /srv/gone failed: no such file', 'sftp: rename /srv/a to /srv/b', 'sftp: setstat /srv/b (size 0, mode 0640)',
      'sftp: open /etc/shadow (read) failed: permission denied', 'sftp: rename /srv/b to /srv/c']);
  });

  it('relays a packet whose fields do not fit as it is, recorded as unparseable, and goes on reading the next one', () => {
    const { markers, log } = logged();
    assert.deepEqual(log.client(Buffer.concat([packet(FXP.OPEN, u32(7), u32(0xffff)), u32(0), packet(FXP.MKDIR, u32(8), str('/srv/d'), u32(0))])), { stop: false });
    log.host(status(8));
    assert.deepEqual(markers, ['sftp: unparseable packet from the client (type 3, 9 bytes), relayed as it is',
      'sftp: unparseable packet from the client (no type, 0 bytes), relayed as it is', 'sftp: mkdir /srv/d']);
  });

  it('stops at a declared length over the limit, before any of it arrives, and lists the files still open', () => {
    const { markers, log } = logged();
    log.client(packet(FXP.OPEN, u32(1), str('/srv/big'), u32(0x2), u32(0)));
    log.host(handle(1, 'h'));
    const verdict = log.client(u32(MAX_PACKET_BYTES + 1));
    assert.equal(verdict.stop, true);
    assert.deepEqual(markers.slice(1), [`sftp: a packet of ${MAX_PACKET_BYTES + 1} bytes from the client is over the limit; the file transfer was closed`,
      'sftp: /srv/big left open (0 bytes read, 0 bytes written)']);
  });

  it('stops a client that keeps more requests waiting than any client does', () => {
    const { log } = logged();
    const many = Buffer.concat(Array.from({ length: MAX_TRACKED + 1 }, (_, i) => packet(FXP.REMOVE, u32(i), str('/x'))));
    assert.equal(log.client(many).stop, true);
  });

  it('never throws on whatever either side sends: well-framed packets of any type and body, or raw bytes, split anywhere', () => {
    const framed = fc.tuple(fc.integer({ min: 0, max: 255 }), fc.uint8Array({ maxLength: 48 })).map(([type, body]) => packet(type, Buffer.from(body)));
    const chunks = fc.array(fc.oneof(framed, fc.uint8Array({ maxLength: 64 }).map((b) => Buffer.from(b))), { maxLength: 20 });
    fc.assert(fc.property(chunks, chunks, (fromClient, fromHost) => {
      const { log } = logged();
      fromClient.forEach((chunk, i) => {
        log.client(chunk);
        if (fromHost[i]) log.host(fromHost[i]);
      });
      log.finish();
    }), { numRuns: 3000 });
  });
});
