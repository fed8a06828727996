import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { generateKeyPairSync } from 'node:crypto';
import { sql } from 'drizzle-orm';
import { signCheckpoint } from '../src/audit/checkpoint-signature.js';
import { keyIdOf, trustedKeysFrom } from '../src/audit/signing-key.js';
import { SCAN_GROUP, SCAN_PAGE } from '../src/audit/chain-scan.js';
import { verifyChain } from '../src/audit/verify.js';
import type { Store } from '../src/store/database.js';
import { BACKENDS, freshStore } from './support/backends.js';
import { asDba, fillAuditChain, hashAt, rewriteAndRehash, tempAnchor } from './support/audit-fixture.js';

/** Verify reads whole groups of events at a time; these cross group and page boundaries. */
const EVENTS = SCAN_PAGE + SCAN_GROUP + 250;

for (const backend of BACKENDS) {
  describe(`a chain longer than one verify page on ${backend}`, () => {
    let store: Store;
    before(async () => { store = await freshStore(backend); await fillAuditChain(store, EVENTS); });
    after(async () => { await store.close(); });
    const unsigned = () => ({ trusted: new Map(), anchor: tempAnchor(), now: new Date(), unsignedGraceMs: 30_000, allowUnsigned: true });

    const verifyAfter = (tamper: (tx: Parameters<Parameters<Store['db']['transaction']>[0]>[0]) => Promise<unknown>) =>
      asDba(store, tamper, (tx) => verifyChain(tx, unsigned()));

    it('verifies across groups and pages', async () => {
      const result = await verifyChain(store.db, unsigned());
      assert.deepEqual([result.ok, result.events], [true, EVENTS]);
    });

    for (const seq of [SCAN_GROUP, SCAN_GROUP + 1, SCAN_PAGE + 17, EVENTS]) {
      it(`a change to event ${seq} is named exactly`, async () => {
        const result = await verifyAfter((tx) => tx.execute(sql`
          UPDATE audit_events SET canonical = replace(canonical, 'the access window ended', 'extended by phone') WHERE seq = ${seq}`));
        assert.equal(result.firstBadSeq, seq);
        assert.equal(result.events, seq - 1);
      });
    }

    for (const seq of [SCAN_GROUP + 1, SCAN_PAGE + 17]) {
      it(`an identity_id column rewritten at event ${seq}, its hash untouched, is named exactly`, async () => {
        const result = await verifyAfter((tx) => tx.execute(sql`UPDATE audit_events SET identity_id = gen_random_uuid() WHERE seq = ${seq}`));
        assert.equal(result.firstBadSeq, seq);
        assert.match(result.reason!, new RegExp(`event ${seq}: column identity_id says "[0-9a-f-]{36}" but the hashed event says "[0-9a-f-]{36}"`));
      });
    }

    /** Each column search and evidence packs read, rewritten in the middle of a group: the hash still verifies, the column does not. */
    const REWRITES: [column: string, set: ReturnType<typeof sql>][] = [
      ['action', sql`action = 'grant.created'`],
      ['actor_id', sql`actor_id = gen_random_uuid()`],
      ['channel', sql`channel = 'http'`],
      ['subject_type', sql`subject_type = 'request'`],
      ['subject_id', sql`subject_id = gen_random_uuid()::text`],
      ['subject_id', sql`subject_id = subject_id || E'\t'`],
      ['subject_id', sql`subject_id = subject_id || E'\n'`],
      ['subject_id', sql`subject_id = subject_id || '","type":"grant"}'`],
      ['identity_id', sql`identity_id = NULL`],
      ['system_id', sql`system_id = gen_random_uuid()`],
      ['occurred_at', sql`occurred_at = occurred_at + interval '1 microsecond'`],
      ['occurred_at', sql`occurred_at = occurred_at - interval '1 day'`],
    ];
    for (const [column, set] of REWRITES) {
      it(`the ${column} column rewritten (${set.queryChunks.map((c) => (typeof c === 'object' && c && 'value' in c ? String(c.value) : '')).join('').slice(0, 40)}) is named`, async () => {
        const seq = SCAN_GROUP + 500;
        const result = await verifyAfter((tx) => tx.execute(sql`UPDATE audit_events SET ${set} WHERE seq = ${seq}`));
        assert.equal(result.firstBadSeq, seq);
        assert.match(result.reason!, new RegExp(`event ${seq}: column ${column} says`));
      });
    }

    it('checkpoints are read page by page with the events: one on the second page still names a rewrite before it', async () => {
      const { privateKey, publicKey } = generateKeyPairSync('ed25519');
      const key = { privateKey, publicKey, keyId: keyIdOf(publicKey) };
      const marked = SCAN_PAGE + 17;
      const result = await asDba(store, async (tx) => {
        for (const seq of [marked, EVENTS]) {
          const cp = signCheckpoint(key, { seq, hash: await hashAt(tx, seq) }, new Date());
          await tx.execute(sql`INSERT INTO audit_checkpoints (seq, hash, signed_at, key_id, signature)
            VALUES (${cp.seq}, ${cp.hash}, ${cp.signedAt.toISOString()}, ${cp.keyId}, ${cp.signature})`);
        }
        await rewriteAndRehash(tx, SCAN_PAGE + 3, (c) => c.replace('the access window ended', 'extended by phone'));
      }, (tx) => verifyChain(tx, { ...unsigned(), trusted: trustedKeysFrom([publicKey]) }));
      assert.equal(result.firstBadSeq, marked, result.reason!);
      assert.match(result.reason!, new RegExp(`event ${marked} does not have the hash the checkpoint at seq ${marked} .* signed`));
    });

    it('a deleted event at a group boundary is named as missing', async () => {
      const result = await verifyAfter((tx) => tx.execute(sql`DELETE FROM audit_events WHERE seq = ${2 * SCAN_GROUP + 1}`));
      assert.equal(result.firstBadSeq, 2 * SCAN_GROUP + 1);
      assert.match(result.reason!, /is missing/);
    });

    it('a raw newline smuggled into an event does not confuse the grouping', async () => {
      const seq = 3 * SCAN_GROUP + 5;
      const result = await verifyAfter((tx) => tx.execute(sql`
        UPDATE audit_events SET canonical = replace(canonical, '"v":1}', E'"v":1}\n{"seq":' || (seq + 1) || ',') WHERE seq = ${seq}`));
      assert.equal(result.firstBadSeq, seq);
      assert.match(result.reason!, new RegExp(`event ${seq} is not readable JSON`));
    });

    it('a huge seq inserted past the end is named without walking the gap', async () => {
      const result = await verifyAfter((tx) => tx.execute(sql`
        INSERT INTO audit_events (seq, occurred_at, action, channel, subject_type, subject_id, canonical, hash)
        VALUES (1000000000000, now(), 'grant.created', 'system', 'grant', 'x', '{}', ${'0'.repeat(64)})`));
      assert.equal(result.firstBadSeq, EVENTS + 1);
      assert.match(result.reason!, /event \d+ is missing: the chain jumps from \d+ to 1000000000000/);
    });
  });
}
