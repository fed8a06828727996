import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { after, afterEach, before, beforeEach, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { sql } from 'drizzle-orm';
import { runMailTick } from '../src/mail/index.js';
import { createRequest } from '../src/operations/create-request.js';
import { openPostgres, type Store } from '../src/store/database.js';
import { BACKENDS } from './support/backends.js';
import { addressEveryone, outbox, PUBLIC_URL, smtpSettings } from './support/mail-world.js';
import { createScratchDatabase } from './support/postgres-server.js';
import { startSmtpSink, type SmtpSink } from './support/smtp-sink.js';
import { buildWorld, type World } from './support/world.js';

const BIN = fileURLToPath(new URL('../bin/tenure.mjs', import.meta.url));
const LOCK_MS = 120_000;

/** `tenure worker --once` in its own process, sending to `sink`, armed to SIGKILL itself once the first message was accepted. */
const workerDyingAfterAccept = (databaseUrl: string, sink: SmtpSink) => new Promise<{ signal: string | null; stderr: string }>((resolve) => {
  const child = spawn(process.execPath, [BIN, 'worker', '--once'], {
    env: { ...process.env, DATABASE_URL: databaseUrl, TENURE_ACTOR: '', TENURE_SMTP_URL: sink.url, TENURE_PUBLIC_URL: PUBLIC_URL,
      TENURE_FAILPOINTS: 'mail.after_smtp_accepted:1' },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => { stderr += String(chunk); });
  child.on('exit', (_code, signal) => resolve({ signal, stderr }));
});

const messageIds = (sink: SmtpSink) => sink.received.map((m) => m.mail.messageId ?? '');

describe('mail senders killed mid-send and racing each other, on the PostgreSQL server', { skip: !BACKENDS.includes('postgres') }, () => {
  let scratch: Awaited<ReturnType<typeof createScratchDatabase>>;
  let store: Store;
  let other: Store;
  let w: World;
  let sink: SmtpSink;

  before(async () => {
    scratch = await createScratchDatabase();
    store = await openPostgres(scratch.url);
    other = await openPostgres(scratch.url);
    w = await buildWorld(store, new Date().toISOString());
    await addressEveryone(store);
  });
  beforeEach(async () => {
    await store.db.execute(sql`DELETE FROM mail_outbox`);
    sink = await startSmtpSink();
  });
  afterEach(async () => { await sink.stop(); });
  after(async () => { await other?.close(); await store?.close(); await scratch?.drop(); });

  it('killed after the server accepted a message and before it was marked: nothing is lost, and the one repeat has the same Message-ID', async () => {
    await createRequest(await w.as('eve'), { entitlement: 'payments/read', justification: 'crash one', duration: '2d' });
    await createRequest(await w.as('carl'), { entitlement: 'payments/read', justification: 'crash two', duration: '2d' });
    const died = await workerDyingAfterAccept(scratch.url, sink);
    assert.equal(died.signal, 'SIGKILL', died.stderr);
    assert.equal(sink.received.length, 1, 'the first message was accepted before the kill');
    const claimed = await outbox(store);
    assert.equal(claimed.length, 2, 'both messages were in the outbox');
    assert.ok(claimed.every((r) => r.status === 'pending' && r.attempts === 1), 'claimed, never marked');

    // After the dead sender's lock lapses; the clock is moved rather than waited for.
    w.clock.advance(Date.now() - w.clock.now().getTime() + LOCK_MS + 1_000);
    assert.equal((await runMailTick(w.worker, { settings: smtpSettings(sink) })).sent, 2);
    assert.ok((await outbox(store)).every((r) => r.status === 'sent'));
    const ids = messageIds(sink);
    assert.equal(ids.length, 3, 'two messages, one of them twice');
    assert.equal(new Set(ids).size, 2, 'the repeat carries the Message-ID of the first send');
    assert.equal(ids[0], ids.find((id, i) => i > 0 && id === ids[0]), 'and it is the message accepted before the kill');
  });

  it('two senders on two connections at once send every message exactly once, digests included', async () => {
    const people = ['eve', 'sam', 'tom', 'olivia'];
    const now = w.clock.now().toISOString();
    for (let i = 0; i < 40; i += 1) {
      const who = people[i % people.length]!;
      await store.db.execute(sql`
        INSERT INTO mail_outbox (id, identity_id, address, event_key, kind, urgent, subject, text, html, status, digest, next_attempt_at, created_at)
        VALUES (${randomUUID()}, ${await w.id(who)}, ${`${who}@example.org`}, ${`test:${i}`}, 'approval.needed', false, ${`message ${i}`},
          ${`Hello,\n\ntext ${i}\n`}, ${`<!doctype html><html><body><p>Hello,</p><p>html ${i}</p></body></html>`}, 'pending', ${i % 2 === 1 && who !== 'eve'}, ${now}::timestamptz, ${now}::timestamptz)`);
    }
    const settings = smtpSettings(sink);
    const results = await Promise.all([
      runMailTick(w.worker, { settings, send: { batchSize: 3 } }),
      runMailTick({ ...w.worker, store: other }, { settings, send: { batchSize: 3 } }),
    ]);
    const rows = await outbox(store);
    assert.ok(rows.every((r) => r.status === 'sent' && r.attempts === 1), 'each row was claimed once');
    const digests = new Set(rows.filter((r) => r.digest).map((r) => r.batch_id));
    const expected = rows.filter((r) => !r.digest).length + digests.size;
    assert.equal(results[0].sent + results[1].sent, expected);
    assert.equal(sink.received.length, expected, 'one message per row, one per digest');
    assert.equal(new Set(messageIds(sink)).size, expected, 'no Message-ID twice');
    const texts = sink.received.flatMap((m) => (m.mail.text ?? '').match(/text \d+/g) ?? []);
    assert.equal(new Set(texts).size, 40, 'every row went out');
    assert.equal(texts.length, 40, 'and none of them twice');
  });
});
