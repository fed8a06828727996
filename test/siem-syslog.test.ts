import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { rmSync } from 'node:fs';
import { sql } from 'drizzle-orm';
import { runSiemStep } from '../src/jobs/siem.js';
import { cursorName, streamTarget } from '../src/siem/stream.js';
import type { SiemTarget } from '../src/siem/config.js';
import type { Store } from '../src/store/database.js';
import type { Context } from '../src/work/context.js';
import { recordEvents } from './support/audit-fixture.js';
import { BACKENDS, freshStore } from './support/backends.js';
import { makePki, startRsyslogd, type Pki, type Rsyslogd } from './support/rsyslogd.js';
import { checkSyslogMessage, cursorAt, eventHashes, headSeq, onlyTarget, recordSome, systemContext } from './support/siem.js';

for (const backend of BACKENDS) {
  describe(`the audit log streamed to a real rsyslog over TCP (${backend})`, () => {
    let store: Store;
    let ctx: Context;
    let rsyslog: Rsyslogd;
    let target: SiemTarget;

    before(async () => {
      store = await freshStore(backend);
      ctx = systemContext(store);
      rsyslog = await startRsyslogd();
      target = onlyTarget({ TENURE_SIEM_SYSLOG: `tcp://127.0.0.1:${rsyslog.port}` });
    });
    after(async () => { await rsyslog.close(); await store.close(); });

    it('delivers every event in seq order from the beginning of the log, each parsing back to its seq, hash, action and canonical event', async () => {
      await recordSome(ctx, 11);
      const result = await streamTarget(store.db, target, { batchSize: 4 });
      assert.deepEqual(result, { target: 'syslog', sent: 11, busy: false });
      const stored = await eventHashes(store.db);
      const seqs = (await rsyslog.waitFor(11)).map((raw) => checkSyslogMessage(raw, stored));
      assert.deepEqual(seqs, Array.from({ length: 11 }, (_, i) => i + 1));
      assert.equal(await cursorAt(store.db, cursorName(target)), 11);
    });

    it('loses nothing while the receiver is down: the cursor stays, and the rest is delivered in order once it is back', async () => {
      await rsyslog.stop();
      await recordSome(ctx, 5);
      const down = await streamTarget(store.db, target, { batchSize: 4 });
      assert.equal(down.sent, 0);
      assert.match(down.error ?? '', /ECONNREFUSED/);
      assert.equal(await cursorAt(store.db, cursorName(target)), 11);
      await rsyslog.start();
      await recordSome(ctx, 2);
      assert.deepEqual(await streamTarget(store.db, target, { batchSize: 4 }), { target: 'syslog', sent: 7, busy: false });
      const stored = await eventHashes(store.db);
      const seqs = (await rsyslog.waitFor(18)).map((raw) => checkSyslogMessage(raw, stored));
      assert.deepEqual(seqs, Array.from({ length: 18 }, (_, i) => i + 1));
      assert.equal(await cursorAt(store.db, cursorName(target)), await headSeq(store.db));
    });

    it('sends a batch again, with the same seq and hash, when the process stopped after the receiver took it but before the cursor moved', async () => {
      await recordSome(ctx, 2);
      const crashing: SiemTarget = { ...target, send: async (events) => { await target.send(events); throw new Error('process killed'); } };
      assert.equal((await streamTarget(store.db, crashing)).error, 'process killed');
      assert.equal(await cursorAt(store.db, cursorName(target)), 18);
      assert.equal((await streamTarget(store.db, target)).sent, 2);
      const stored = await eventHashes(store.db);
      const seqs = (await rsyslog.waitFor(22)).slice(18).map((raw) => checkSyslogMessage(raw, stored));
      assert.deepEqual(seqs, [19, 20, 19, 20]);
    });

    it('sends nothing while another streamer holds the lease, and takes over a lease whose holder died once its deadline has passed', async () => {
      await recordSome(ctx, 1);
      const lease = `${cursorName(target)}:lease`;
      await store.db.execute(sql`UPDATE feed_cursors SET seq = (extract(epoch from clock_timestamp()) * 1000)::bigint + 600000 WHERE name = ${lease}`);
      assert.deepEqual(await streamTarget(store.db, target), { target: 'syslog', sent: 0, busy: true });
      assert.equal(await cursorAt(store.db, cursorName(target)), 20);
      await store.db.execute(sql`UPDATE feed_cursors SET seq = (extract(epoch from clock_timestamp()) * 1000)::bigint - 1 WHERE name = ${lease}`);
      assert.deepEqual(await runSiemStep(ctx, [target]), [{ target: 'syslog', sent: 1, busy: false }]);
      assert.equal(await cursorAt(store.db, cursorName(target)), 21);
      assert.equal(await cursorAt(store.db, lease), 0, 'released at the end of the run');
    });

    it('delivers an event larger than rsyslog\'s default 8 KiB message whole, with the receiver configured as docs/siem.md says', async () => {
      await recordEvents(ctx, [{ action: 'policy.applied', subject: { type: 'policy', id: 'p' }, data: { notes: 'x'.repeat(20_000) } }]);
      assert.equal((await streamTarget(store.db, target)).sent, 1);
      const last = (await rsyslog.waitFor(24))[23]!;
      assert.ok(last.length > 20_000);
      assert.equal(checkSyslogMessage(last, await eventHashes(store.db)), 22);
    });

    it('starts at the head instead when TENURE_SIEM_START=now, for a target used for the first time', async () => {
      const fromNow = onlyTarget({ TENURE_SIEM_SYSLOG: `tcp://127.0.0.1:${rsyslog.port}`, TENURE_SIEM_START: 'now' });
      const renamed: SiemTarget = { ...fromNow, name: 'http' };
      assert.deepEqual(await streamTarget(store.db, renamed), { target: 'http', sent: 0, busy: false });
      assert.equal(await cursorAt(store.db, 'siem:http'), await headSeq(store.db));
    });
  });
}

describe('the audit log streamed to a real rsyslog over TLS (RFC 5425)', () => {
  const backend = BACKENDS[0]!;
  let store: Store;
  let ctx: Context;
  let pki: Pki;
  let rsyslog: Rsyslogd;

  before(async () => {
    store = await freshStore(backend);
    ctx = systemContext(store);
    pki = makePki();
    rsyslog = await startRsyslogd({ pki });
  });
  after(async () => { await rsyslog.close(); await store.close(); rmSync(pki.dir, { recursive: true, force: true }); });

  it('refuses a server whose certificate another CA signed, sends nothing and does not advance', async () => {
    await recordSome(ctx, 3);
    const wrongCa = onlyTarget({ TENURE_SIEM_SYSLOG: `tls://127.0.0.1:${rsyslog.port}`, TENURE_SIEM_SYSLOG_CA_FILE: pki.otherCaFile });
    const result = await streamTarget(store.db, wrongCa);
    assert.equal(result.sent, 0);
    assert.match(result.error ?? '', /certificate/i);
    assert.equal(await cursorAt(store.db, cursorName(wrongCa)), 0);
    assert.deepEqual(rsyslog.messages(), []);
  });

  it('delivers every event in order over TLS when the CA file is the server\'s', async () => {
    const target = onlyTarget({ TENURE_SIEM_SYSLOG: `tls://127.0.0.1:${rsyslog.port}`, TENURE_SIEM_SYSLOG_CA_FILE: pki.caFile });
    assert.deepEqual(await streamTarget(store.db, target, { batchSize: 2 }), { target: 'syslog', sent: 3, busy: false });
    const stored = await eventHashes(store.db);
    assert.deepEqual((await rsyslog.waitFor(3)).map((raw) => checkSyslogMessage(raw, stored)), [1, 2, 3]);
  });
});
