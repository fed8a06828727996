import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { serialize } from 'pg-protocol';
import { MessageReader, ProtocolError, type Message } from './wire.js';

const wanted = new Set(['Q'.charCodeAt(0)]);

describe('the relay framing of a PostgreSQL stream', () => {
  it('passes every whole message on as one slice, observing only the wanted types, and keeps a partial one for later', () => {
    const bytes = Buffer.concat([serialize.sync(), serialize.query('SELECT 1'), serialize.flush(), serialize.query('SELECT 2')]);
    const reader = new MessageReader(1024);
    const seen: Message[] = [];
    reader.push(bytes.subarray(0, bytes.length - 3));
    const first = reader.takeWhole(wanted, (m) => seen.push(m));
    assert.deepEqual([first, seen.map((m) => m.body.toString('latin1'))], [bytes.subarray(0, bytes.length - 14), ['SELECT 1\0']]);
    assert.equal(reader.takeWhole(wanted, (m) => seen.push(m)), undefined, 'nothing whole is left');
    reader.push(bytes.subarray(bytes.length - 3));
    assert.deepEqual(reader.takeWhole(wanted, (m) => seen.push(m)), bytes.subarray(bytes.length - 14));
    assert.deepEqual(seen.map((m) => m.type), ['Q', 'Q']);
  });

  it('refuses a declared length over the limit before its body arrives', () => {
    const reader = new MessageReader(64);
    const header = Buffer.from([0x51, 0, 0, 1, 0]);
    reader.push(header);
    assert.throws(() => reader.takeWhole(wanted, () => undefined), (error: ProtocolError) => error.code === '54000');
  });
});
