import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import canonicalize from 'canonicalize';
import { sql } from 'drizzle-orm';
import { chainHash, GENESIS_HASH } from '../src/audit/chain.js';
import { exportAuditEvents } from '../src/audit/export.js';
import { searchAuditEvents, SMALL_WINDOW_EVENTS, type AuditFilters } from '../src/audit/search.js';
import { BACKENDS, freshStore } from './support/backends.js';
import { buildAuditFixture, HOUR, START, type AuditFixture } from './support/audit-fixture.js';

const collect = () => {
  const chunks: string[] = [];
  const out = new Writable({ write(chunk, _encoding, done) { chunks.push(String(chunk)); done(); } });
  return { out, lines: () => chunks.join('').split('\n').filter((l) => l !== '') };
};

for (const backend of BACKENDS) {
  describe(`audit search and export on ${backend}`, () => {
    let f: AuditFixture;
    before(async () => { f = await buildAuditFixture(await freshStore(backend)); });
    after(async () => { await f.store.close(); });

    const seqs = async (filters: Omit<AuditFilters, 'limit'>, limit = 100) =>
      (await searchAuditEvents(f.store.db, { ...filters, limit })).map((e) => e.seq);
    const plannedSeqs = (match: (e: AuditFixture['planned'] extends Map<number, infer V> ? V : never) => boolean) =>
      [...f.planned].filter(([, e]) => match(e)).map(([seq]) => seq);

    it('search by identity returns exactly that identity\'s events, oldest first', async () => {
      const found = await seqs({ identityId: f.alice });
      assert.deepEqual(found, plannedSeqs((e) => e.identityId === f.alice));
      assert.deepEqual(found, [...found].sort((a, b) => a - b));
    });

    it('search by system and by action narrows to the events that match both', async () => {
      assert.deepEqual(await seqs({ systemId: f.sysB }), plannedSeqs((e) => e.systemId === f.sysB));
      assert.deepEqual(await seqs({ systemId: f.sysA, action: 'grant.expired' }),
        plannedSeqs((e) => e.systemId === f.sysA && e.action === 'grant.expired'));
      assert.deepEqual(await seqs({ action: ['grant.created', 'grant.expired'] }),
        plannedSeqs((e) => e.action === 'grant.created' || e.action === 'grant.expired'));
    });

    it('search by time includes the start and excludes the end', async () => {
      const from = new Date(new Date(START).getTime() + 2 * HOUR);
      const to = new Date(new Date(START).getTime() + 4 * HOUR);
      assert.deepEqual(await seqs({ from, to }), [11, 12, 13, 14, 15, 16, 17, 18, 19, 20]);
    });

    it('search pages with afterSeq and a limit', async () => {
      assert.deepEqual(await seqs({ identityId: f.bob }, 3), [2, 4, 6]);
      assert.deepEqual(await seqs({ identityId: f.bob, afterSeq: 6 }, 3), [8, 10, 12]);
    });

    it('search returns each event as its canonical JSON records it, with seq and hash', async () => {
      const [event] = await searchAuditEvents(f.store.db, { afterSeq: 6, limit: 1 });
      assert.equal(event?.seq, 7);
      assert.equal(event?.action, f.planned.get(7)?.action);
      assert.equal(event?.at, f.planned.get(7)?.at.toISOString());
      assert.deepEqual(event?.actor, { id: null, channel: 'system' });
      assert.deepEqual(event?.subject, { type: 'grant', id: 'g-7' });
      assert.match(event!.hash, /^[0-9a-f]{64}$/);
    });

    it('export writes one valid JSON line per event that an auditor can verify line by line', async () => {
      const { out, lines } = collect();
      const result = await exportAuditEvents(f.store.db, {}, out);
      assert.deepEqual(result, { events: 30, lastSeq: 30 });
      const parsed = lines().map((line) => JSON.parse(line) as { seq: number; hash: string; prevHash: string; event: { seq: number } });
      assert.deepEqual(parsed.map((p) => p.seq), Array.from({ length: 30 }, (_, i) => i + 1));
      let previous = GENESIS_HASH;
      for (const line of parsed) {
        assert.equal(line.prevHash, previous);
        assert.equal(line.event.seq, line.seq);
        assert.equal(chainHash(line.prevHash, canonicalize(line.event)!), line.hash);
        previous = line.hash;
      }
    });

    it('a filtered export keeps each line verifiable through its previous hash', async () => {
      const { out, lines } = collect();
      await exportAuditEvents(f.store.db, { identityId: f.bob, to: new Date(new Date(START).getTime() + HOUR) }, out);
      const parsed = lines().map((line) => JSON.parse(line) as { seq: number; hash: string; prevHash: string; event: unknown });
      assert.deepEqual(parsed.map((p) => p.seq), [2, 4]);
      for (const line of parsed) assert.equal(chainHash(line.prevHash, canonicalize(line.event)!), line.hash);
    });
  });
}

describe('a search bounded in time reads a small window through the time index and a wide one along the chain, with the same answers', () => {
  for (const backend of BACKENDS) {
    it(`every window, narrow or wider than ${SMALL_WINDOW_EVENTS.toLocaleString('en-US')} events, oldest or newest first, returns exactly the events inside it (${backend})`, async () => {
      const store = await freshStore(backend);
      try {
        const total = SMALL_WINDOW_EVENTS + 5_000;
        const start = Date.parse('2030-01-01T00:00:00Z');
        // One event a second, their times growing with seq, as appends make them.
        await store.db.execute(sql`INSERT INTO audit_events (seq, occurred_at, action, actor_id, channel, subject_type, subject_id, identity_id, system_id, canonical, hash)
          SELECT s, ${new Date(start).toISOString()}::timestamptz + s * interval '1 second', 'grant.created', NULL, 'system', 'grant', 'g-' || s, NULL, NULL,
                 jsonb_build_object('v', 1, 'at', to_char((${new Date(start).toISOString()}::timestamptz + s * interval '1 second') AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
                   'action', 'grant.created', 'actor', jsonb_build_object('id', NULL, 'channel', 'system'), 'subject', jsonb_build_object('type', 'grant', 'id', 'g-' || s),
                   'identityId', NULL, 'systemId', NULL, 'before', NULL, 'after', NULL, 'reason', NULL, 'ticket', NULL, 'data', NULL)::text, md5(s::text)
            FROM generate_series(1, ${total}::int) s`);
        const at = (seq: number) => new Date(start + seq * 1000);
        const windows: [string, number, number][] = [['the last hour', total - 3600, total + 1], ['one minute in the middle', 10_000, 10_060],
          [`wider than ${SMALL_WINDOW_EVENTS}`, 2_000, total + 1]];
        for (const [name, first, end] of windows) {
          for (const newestFirst of [false, true]) {
            const found = (await searchAuditEvents(store.db, { from: at(first), to: at(end), limit: 50, newestFirst })).map((e) => e.seq);
            const inside = Array.from({ length: Math.min(end, total + 1) - first }, (_, i) => first + i);
            assert.deepEqual(found, newestFirst ? inside.reverse().slice(0, 50) : inside.slice(0, 50), `${name}, ${newestFirst ? 'newest' : 'oldest'} first`);
          }
        }
      } finally {
        await store.close();
      }
    });
  }
});
