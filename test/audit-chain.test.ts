import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { sql } from 'drizzle-orm';
import { chainHash } from '../src/audit/chain.js';
import { writeCheckpoint } from '../src/audit/checkpoint.js';
import { signCheckpoint } from '../src/audit/checkpoint-signature.js';
import { keyIdOf } from '../src/audit/signing-key.js';
import { verifyChain } from '../src/audit/verify.js';
import { TenureError } from '../src/domain/errors.js';
import { rawRows } from '../src/store/database.js';
import { BACKENDS, freshStore } from './support/backends.js';
import {
  asDba, buildAuditFixture, verifyOptions, eventRows, forgedEvent, hashAt, insertEvent, rewriteAndRehash, setHead, tempAnchor, type AuditFixture,
} from './support/audit-fixture.js';

/** Drizzle wraps the database error; the trigger's message is on its cause. */
const refusedWith = (pattern: RegExp) => (error: unknown): boolean => {
  const cause = (error as { cause?: unknown }).cause ?? error;
  assert.match(String((cause as Error).message), pattern);
  return true;
};

for (const backend of BACKENDS) {
  describe(`audit chain on ${backend}`, () => {
    let f: AuditFixture;
    before(async () => { f = await buildAuditFixture(await freshStore(backend)); });
    after(async () => { await f.store.close(); });

    const verifyAfter = (tamper: Parameters<typeof asDba>[1]) => asDba(f.store, tamper, (tx) => verifyChain(tx, verifyOptions(f)));

    it('an untouched chain verifies, with both checkpoints', async () => {
      const result = await verifyChain(f.store.db, verifyOptions(f));
      assert.deepEqual({ ...result, head: result.head.seq }, { ok: true, events: 30, firstBadSeq: null, reason: null, checkpoints: 2, head: 30, anchoredSeq: 30, restores: [] });
    });

    it('UPDATE, DELETE and TRUNCATE on audit events are refused by the database', async () => {
      await assert.rejects(f.store.db.execute(sql`UPDATE audit_events SET action = 'grant.revoked' WHERE seq = 3`), refusedWith(/append-only: UPDATE refused/));
      await assert.rejects(f.store.db.execute(sql`DELETE FROM audit_events WHERE seq = 30`), refusedWith(/append-only: DELETE refused/));
      await assert.rejects(f.store.db.execute(sql`TRUNCATE audit_events`), refusedWith(/append-only: TRUNCATE refused/));
      await assert.rejects(f.store.db.execute(sql`DELETE FROM audit_checkpoints`), refusedWith(/append-only: DELETE refused/));
      await assert.rejects(f.store.db.execute(sql`UPDATE audit_checkpoints SET key_id = 'other'`), refusedWith(/append-only: UPDATE refused/));
      assert.equal((await verifyChain(f.store.db, verifyOptions(f))).events, 30);
    });

    it('a changed event is named as the first bad one', async () => {
      const result = await verifyAfter((tx) => tx.execute(sql`
        UPDATE audit_events SET canonical = replace(canonical, '"reason":null', '"reason":"approved by phone"') WHERE seq = 12`));
      assert.equal(result.ok, false);
      assert.equal(result.firstBadSeq, 12);
      assert.match(result.reason!, /event 12 does not match its stored hash/);
      assert.equal(result.events, 11);
    });

    it('a changed event whose own hash was recomputed is caught at the next event', async () => {
      const result = await verifyAfter(async (tx) => {
        const canonical = (await eventRows(tx, 12))[0]!.canonical.replace('"reason":null', '"reason":"approved by phone"');
        const hash = chainHash(await hashAt(tx, 11), canonical);
        await tx.execute(sql`UPDATE audit_events SET canonical = ${canonical}, hash = ${hash} WHERE seq = 12`);
      });
      assert.equal(result.firstBadSeq, 13);
      assert.match(result.reason!, /event 13 does not match its stored hash/);
    });

    it('a deleted event is named as missing', async () => {
      const result = await verifyAfter((tx) => tx.execute(sql`DELETE FROM audit_events WHERE seq = 7`));
      assert.equal(result.firstBadSeq, 7);
      assert.match(result.reason!, /event 7 is missing: the chain jumps from 6 to 8/);
    });

    it('an inserted event, even with a valid hash of its own, breaks the chain at the event it displaced', async () => {
      const result = await verifyAfter(async (tx) => {
        await tx.execute(sql`UPDATE audit_events SET seq = seq + 1000 WHERE seq >= 10`);
        await tx.execute(sql`UPDATE audit_events SET seq = seq - 999 WHERE seq >= 1000`);
        await insertEvent(tx, 10, forgedEvent(10, await hashAt(tx, 9), 'inserted later'));
        await setHead(tx, 31, await hashAt(tx, 31));
      });
      assert.equal(result.firstBadSeq, 11);
      assert.match(result.reason!, /event 11 records seq 10: events were inserted, removed or reordered/);
    });

    it('an event appended without moving the head is named as beyond the head', async () => {
      const result = await verifyAfter(async (tx) => insertEvent(tx, 31, forgedEvent(31, await hashAt(tx, 30), 'appended quietly')));
      assert.equal(result.firstBadSeq, 31);
      assert.match(result.reason!, /event 31 lies beyond the chain head \(30\)/);
    });

    it('a reordered pair of events is named at the first of the two', async () => {
      const result = await verifyAfter(async (tx) => {
        await tx.execute(sql`UPDATE audit_events SET seq = -14 WHERE seq = 14`);
        await tx.execute(sql`UPDATE audit_events SET seq = 14 WHERE seq = 15`);
        await tx.execute(sql`UPDATE audit_events SET seq = 15 WHERE seq = -14`);
      });
      assert.equal(result.firstBadSeq, 14);
      assert.match(result.reason!, /event 14 records seq 15/);
    });

    it('a tail cut after a checkpoint is detected even when the head is moved back to match', async () => {
      const result = await verifyAfter(async (tx) => {
        await tx.execute(sql`DELETE FROM audit_events WHERE seq > 25`);
        await setHead(tx, 25, await hashAt(tx, 25));
      });
      assert.equal(result.firstBadSeq, 26);
      assert.match(result.reason!, /checkpoint at seq 30 .* covers events up to 30, but the chain ends at 25: events 26-30 were removed/);
      assert.equal(result.events, 25);
    });

    it('a tail cut without moving the head is named from the head', async () => {
      const result = await verifyAfter((tx) => tx.execute(sql`DELETE FROM audit_events WHERE seq > 27`));
      assert.equal(result.firstBadSeq, 28);
      assert.match(result.reason!, /the chain head covers events up to 30, but the chain ends at 27/);
    });

    it('a whole chain rewritten with valid hashes is caught by the first checkpoint it contradicts', async () => {
      const result = await verifyAfter(async (tx) => {
        await rewriteAndRehash(tx, 5);
      });
      assert.equal(result.firstBadSeq, 20);
      assert.match(result.reason!, /event 20 does not have the hash the checkpoint at seq 20 .* signed: the chain up to it was rewritten/);
    });

    it('the newest checkpoint with an altered signature is refused', async () => {
      const result = await verifyAfter(async (tx) => {
        const [cp] = await rawRows<{ signature: string }>(tx, sql`SELECT signature FROM audit_checkpoints WHERE seq = 30`);
        const flipped = Buffer.from(cp!.signature, 'base64');
        flipped[0]! ^= 1;
        await tx.execute(sql`UPDATE audit_checkpoints SET signature = ${flipped.toString('base64')} WHERE seq = 30`);
      });
      assert.equal(result.firstBadSeq, 30);
      assert.match(result.reason!, /checkpoint at seq 30 has a signature that key [0-9a-f]{16} did not make/);
    });

    it('an older checkpoint is held to its hash: with its signature altered, a rewrite before it is still named there', async () => {
      const result = await verifyAfter(async (tx) => {
        await tx.execute(sql`UPDATE audit_checkpoints SET signature = ${Buffer.alloc(64).toString('base64')} WHERE seq = 20`);
        await rewriteAndRehash(tx, 10);
      });
      assert.equal(result.firstBadSeq, 20);
      assert.match(result.reason!, /event 20 does not have the hash the checkpoint at seq 20 .* signed/);
    });

    it('a checkpoint signed by an unknown key is refused, even over a consistent rewritten chain', async () => {
      const { privateKey, publicKey } = generateKeyPairSync('ed25519');
      const forger = { privateKey, publicKey, keyId: keyIdOf(publicKey) };
      const result = await verifyAfter(async (tx) => {
        await tx.execute(sql`DELETE FROM audit_checkpoints WHERE seq = 30`);
        const forged = signCheckpoint(forger, { seq: 30, hash: await hashAt(tx, 30) }, new Date());
        await tx.execute(sql`INSERT INTO audit_checkpoints (seq, hash, signed_at, key_id, signature)
          VALUES (${forged.seq}, ${forged.hash}, ${forged.signedAt.toISOString()}, ${forged.keyId}, ${forged.signature})`);
      });
      assert.equal(result.firstBadSeq, 30);
      assert.match(result.reason!, new RegExp(`signed by key ${forger.keyId}, which is not a trusted key`));
    });

    it('without the signing key, checkpoints cannot be trusted and verify says so', async () => {
      const result = await verifyChain(f.store.db, verifyOptions(f, { trusted: new Map() }));
      assert.equal(result.ok, false);
      assert.equal(result.firstBadSeq, 30);
      assert.match(result.reason!, /not a trusted key/);
    });

    it('a checkpoint is written only when the head has moved', async () => {
      const again = await writeCheckpoint(f.store.db, f.clock.now(), f.key, f.anchor);
      assert.equal(again.written, false);
      assert.equal(again.checkpoint?.seq, 30);
    });

    it('no checkpoint is signed over events changed since the previous one', async () => {
      const refusal = await asDba(f.store, async (tx) => {
        await insertEvent(tx, 31, forgedEvent(31, await hashAt(tx, 30), 'next'));
        await insertEvent(tx, 32, forgedEvent(32, await hashAt(tx, 31), 'after next'));
        await setHead(tx, 32, await hashAt(tx, 32));
        await tx.execute(sql`UPDATE audit_events SET canonical = replace(canonical, '"next"', '"changed"') WHERE seq = 31`);
      }, (tx) => writeCheckpoint(tx, f.clock.now(), f.key, f.anchor).then(() => undefined, (error: unknown) => error));
      assert.ok(refusal instanceof TenureError && refusal.code === 'audit.chain_broken', String(refusal));
      assert.match(refusal.message, /broken at event 31: event 31 does not match its stored hash/);
    });

    it('no checkpoint is signed when the event the previous checkpoint vouches for was altered', async () => {
      const refusedWith = (anchor: typeof f.anchor) => asDba(f.store, async (tx) => {
        await tx.execute(sql`UPDATE audit_events SET hash = ${'f'.repeat(64)} WHERE seq = 30`);
        await insertEvent(tx, 31, forgedEvent(31, await hashAt(tx, 30), 'next'));
        await setHead(tx, 31, await hashAt(tx, 31));
      }, (tx) => writeCheckpoint(tx, f.clock.now(), f.key, anchor).then(() => undefined, (error: unknown) => error));
      const byAnchor = await refusedWith(f.anchor);
      assert.ok(byAnchor instanceof TenureError && byAnchor.code === 'audit.chain_broken', String(byAnchor));
      assert.match(byAnchor.message, /event 30 does not have the hash the checkpoint in .* signed/);
      // With no note of event 30 outside the database, the checkpoint row still refuses it.
      const byCheckpoint = await refusedWith(tempAnchor());
      assert.ok(byCheckpoint instanceof TenureError && byCheckpoint.code === 'audit.chain_broken', String(byCheckpoint));
      assert.match(byCheckpoint.message, /event 30 no longer has the hash its checkpoint signed/);
    });
  });
}
