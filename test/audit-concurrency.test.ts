import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { sql } from 'drizzle-orm';
import { writeCheckpoint } from '../src/audit/checkpoint.js';
import { loadSigningKey, trustedKeysFrom } from '../src/audit/signing-key.js';
import { verifyChain } from '../src/audit/verify.js';
import { ManualClock } from '../src/domain/clock.js';
import type { Context } from '../src/work/context.js';
import { rawRows, type Store } from '../src/store/database.js';
import { BACKENDS, freshStore } from './support/backends.js';
import { recordEvents, tempAnchor, tempDir } from './support/audit-fixture.js';

/** Several connections make the race real on the server; the embedded backend serialises the same calls. */
for (const backend of BACKENDS) {
  describe(`concurrent audit appenders on ${backend}`, () => {
    let store: Store;
    let ctx: Context;
    before(async () => {
      store = await freshStore(backend, { poolSize: 8 });
      ctx = { store, clock: new ManualClock(), actor: { id: undefined, channel: 'system' } };
    });
    after(async () => { await store.close(); });

    const appendAtOnce = (writers: number, label: string) => Promise.all(Array.from({ length: writers }, (_, w) =>
      recordEvents(ctx, [1, 2, 3].map((i) => ({ action: 'grant.created' as const, subject: { type: 'grant', id: `${label}-${w}-${i}` } })))));

    it('20 transactions appending at once never fork the chain, and it verifies', async () => {
      await appendAtOnce(20, 'a');
      const rows = await rawRows<{ seq: number; subject_id: string }>(store.db,
        sql`SELECT seq::int AS seq, subject_id FROM audit_events ORDER BY seq`);
      assert.deepEqual(rows.map((r) => r.seq), Array.from({ length: 60 }, (_, i) => i + 1));
      for (let i = 0; i < rows.length; i += 3) {
        const writer = rows[i]!.subject_id.slice(0, -2);
        assert.deepEqual(rows.slice(i, i + 3).map((r) => r.subject_id), [1, 2, 3].map((n) => `${writer}-${n}`), 'one transaction\'s events stay together');
      }
      const result = await verifyChain(store.db, { trusted: new Map(), anchor: tempAnchor(), now: new Date(), unsignedGraceMs: 30_000, allowUnsigned: true });
      assert.deepEqual([result.ok, result.events, result.head.seq], [true, 60, 60]);
    });

    it('checkpoints signed while writers append always match the chain', async () => {
      const key = loadSigningKey({ env: {}, dataDir: tempDir('audit-key'), create: true })!;
      const anchor = tempAnchor();
      await Promise.all([
        appendAtOnce(10, 'b'),
        ...[1, 2, 3, 4].map(() => writeCheckpoint(store.db, new Date(), key, anchor)),
        appendAtOnce(10, 'c'),
        writeCheckpoint(store.db, new Date(), key, anchor),
      ]);
      await writeCheckpoint(store.db, new Date(), key, anchor);
      const result = await verifyChain(store.db, { trusted: trustedKeysFrom([key.publicKey]), anchor, now: new Date(), unsignedGraceMs: 30_000 });
      assert.equal(result.reason, null);
      assert.equal(result.anchoredSeq, 120, 'the anchor holds the head');
      assert.equal(result.events, 120);
      assert.ok(result.checkpoints >= 1);
    });
  });
}
