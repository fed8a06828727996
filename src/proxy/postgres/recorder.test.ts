import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { serialize } from 'pg-protocol';
import type { RecordedStatement } from '../../domain/proxy-recording.js';
import { StatementRecorder } from './recorder.js';
import { MessageReader, report, type Message } from './wire.js';

const messages = (bytes: Buffer): Message[] => {
  const reader = new MessageReader(1 << 20);
  reader.push(bytes);
  const out: Message[] = [];
  for (let m = reader.next(); m; m = reader.next()) out.push(m);
  return out;
};

const server = (type: string, body: Buffer): Buffer => {
  const head = Buffer.alloc(5);
  head.write(type, 0, 'latin1');
  head.writeInt32BE(body.length + 4, 1);
  return Buffer.concat([head, body]);
};
const complete = (tag: string) => server('C', Buffer.from(`${tag}\0`));
const ready = server('Z', Buffer.from('I'));

const record = (keep: boolean, client: Buffer[], replies: Buffer[]): RecordedStatement[] => {
  const got: RecordedStatement[] = [];
  const recorder = new StatementRecorder(keep, () => new Date('2030-01-01T00:00:00Z'), (s) => got.push(s));
  for (const m of messages(Buffer.concat(client))) recorder.fromClient(m);
  for (const m of messages(Buffer.concat(replies))) recorder.fromServer(m);
  return got;
};

describe('the statement recorder', () => {
  it('records a simple query holding several statements as one record with every tag and the rows they report', () => {
    const [s] = record(false, [serialize.query('UPDATE t SET a = 1; SELECT * FROM t')], [complete('UPDATE 4'), complete('SELECT 2'), ready]);
    assert.deepEqual([s!.protocol, s!.tags, s!.rows, s!.error], ['simple', ['UPDATE 4', 'SELECT 2'], 6, null]);
  });

  it('pairs pipelined executes with their replies, and marks the ones skipped after an error as not run', () => {
    const client = [
      serialize.parse({ text: 'INSERT INTO t VALUES ($1)', name: 'ins' }), serialize.bind({ statement: 'ins', values: ['7'] }), serialize.execute(),
      serialize.bind({ statement: 'ins', values: [null] }), serialize.execute(),
      serialize.bind({ statement: 'ins', values: ['9'] }), serialize.execute(), serialize.sync(),
    ];
    const replies = [server('1', Buffer.alloc(0)), server('2', Buffer.alloc(0)), complete('INSERT 0 1'), server('2', Buffer.alloc(0)),
      report('E', 'ERROR', '23502', 'null value violates not-null constraint'), ready];
    const got = record(true, client, replies);
    assert.deepEqual(got.map((s) => [s.seq, s.text, s.params, s.tags, s.rows, s.error?.code ?? null]), [
      [1, 'INSERT INTO t VALUES ($1)', ['7'], ['INSERT 0 1'], 1, null],
      [2, 'INSERT INTO t VALUES ($1)', [null], [], 0, '23502'],
      [3, 'INSERT INTO t VALUES ($1)', ['9'], [], 0, ''],
    ]);
    assert.match(got[2]!.error!.message, /not run/);
  });

  it('redacts parameters unless told to keep them, counting them', () => {
    const client = [serialize.parse({ text: 'SELECT $1, $2' }), serialize.bind({ values: ['secret', 'x'] }), serialize.execute(), serialize.sync()];
    const [s] = record(false, client, [complete('SELECT 1'), ready]);
    assert.deepEqual(s!.params, { redacted: 2 });
  });

  it('finishes what is still waiting when the session ends', () => {
    const got: RecordedStatement[] = [];
    const recorder = new StatementRecorder(false, () => new Date(), (s) => got.push(s));
    for (const m of messages(serialize.query('SELECT pg_sleep(100)'))) recorder.fromClient(m);
    recorder.abandon('the session ended');
    assert.deepEqual(got.map((s) => s.error?.message), ['the session ended']);
  });
});
