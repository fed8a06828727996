import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { cursorName, streamTarget, type StreamResult } from '../src/siem/stream.js';
import type { SiemTarget } from '../src/siem/config.js';
import { openPostgres, type Store } from '../src/store/database.js';
import { createScratchDatabase } from './support/postgres-server.js';
import { startRsyslogd, type Rsyslogd } from './support/rsyslogd.js';
import { checkSyslogMessage, cursorAt, eventHashes, headSeq, onlyTarget, recordSome, systemContext } from './support/siem.js';

const ROUNDS = 6;
const PER_ROUND = 15;

/** Two stores on one database stand for two worker processes: separate pools, separate connections. */
describe('SIEM streamers in several processes on the PostgreSQL server', { skip: process.env.TENURE_TEST_BACKENDS === 'embedded' }, () => {
  let scratch: Awaited<ReturnType<typeof createScratchDatabase>>;
  let first: Store;
  let second: Store;
  let rsyslog: Rsyslogd;
  let target: SiemTarget;

  before(async () => {
    scratch = await createScratchDatabase();
    first = await openPostgres(scratch.url, { max: 4 });
    second = await openPostgres(scratch.url, { max: 4 });
    rsyslog = await startRsyslogd();
    target = onlyTarget({ TENURE_SIEM_SYSLOG: `tcp://127.0.0.1:${rsyslog.port}` });
  });
  after(async () => { await rsyslog.close(); await first.close(); await second.close(); await scratch.drop(); });

  it('send each event once, in seq order, while events keep being written: one streamer per target at a time', async () => {
    const results: StreamResult[] = [];
    for (let round = 0; round < ROUNDS; round += 1) {
      // Events are written while four streamers (two per process) run, so some read a head that moves under them.
      const writing = recordSome(systemContext(round % 2 ? first : second), PER_ROUND);
      results.push(...await Promise.all([first, second, first, second].map((store) => streamTarget(store.db, target, { batchSize: 7 }))));
      await writing;
    }
    results.push(await streamTarget(first.db, target, { batchSize: 7 }));
    const total = ROUNDS * PER_ROUND;
    assert.equal(await headSeq(first.db), total);
    assert.deepEqual(results.filter((r) => r.error), []);
    // No run sent what another had sent: the lease kept them apart (repeats come only from a crash or an overrun lease).
    assert.equal(results.reduce((n, r) => n + r.sent, 0), total);
    const stored = await eventHashes(first.db);
    const seqs = (await rsyslog.waitFor(total)).map((raw) => checkSyslogMessage(raw, stored));
    assert.deepEqual(seqs, Array.from({ length: total }, (_, i) => i + 1));
    assert.equal(await cursorAt(first.db, cursorName(target)), total);
  });
});
