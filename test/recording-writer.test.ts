import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { sql } from 'drizzle-orm';
import { recordingSha256 } from '../src/domain/proxy-recording.js';
import { RecordingWriter } from '../src/proxy/recording-writer.js';
import { rawRows } from '../src/store/database.js';
import { freshStore } from './support/backends.js';
import { grantThrough } from './support/flows.js';
import { recordSession } from './support/proxy-session-fixture.js';
import { buildWorld, type World } from './support/world.js';

/**
 * The recording writer bounds what it holds: a proxy relaying bulk output asks it whether it is
 * behind and waits for it, so a host printing faster than the database stores cannot grow the
 * proxy's memory without limit (measured before the bound: +250 MiB for a 100 MiB read).
 */
describe('the recording writer (PostgreSQL server)', () => {
  let w: World;
  let session: string;
  before(async () => {
    w = await buildWorld(await freshStore('postgres'));
    const grant = await grantThrough(w, 'carl', { entitlement: 'payments/read', justification: 'bulk', duration: '7d' }, ['sam', 'olivia']);
    session = await recordSession(w, grant, [], { open: true });
  });
  after(async () => { await w?.store.close(); });

  it('says it is behind past 4 MiB unstored, catches up as batches commit, and stores every line in order under one digest', async () => {
    const errors: Error[] = [];
    const writer = new RecordingWriter(w.worker, session, 50, (e) => errors.push(e));
    const base = (await rawRows<{ n: number }>(w.store.db, sql`SELECT count(*)::int AS n FROM proxy_statements WHERE session_id = ${session}`))[0]!.n;
    const lines = Array.from({ length: 24 }, (_, i) => JSON.stringify([i, 'o', String(i % 10).repeat(1024 * 1024)]));
    for (const line of lines) writer.add(line);
    assert.equal(writer.behind, true, '24 MiB added at once is more than the bound');
    await writer.caughtUp();
    assert.equal(writer.behind, false);
    const { lines: count, sha256 } = await writer.finish();
    assert.equal(count, lines.length);
    assert.equal(sha256, recordingSha256(lines));
    const stored = await rawRows<{ seq: number; record: string }>(w.store.db,
      sql`SELECT seq, record FROM proxy_statements WHERE session_id = ${session} AND seq > ${base} ORDER BY seq`);
    assert.deepEqual(stored.map((r) => r.record.length), lines.map((l) => l.length));
    assert.deepEqual(errors, []);
  });
});
