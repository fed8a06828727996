import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { sql } from 'drizzle-orm';
import { verifyChain } from '../src/audit/verify.js';
import { BACKENDS, freshStore } from './support/backends.js';
import { asDba, buildAuditFixture, forgedEvent, hashAt, insertEvent, rewriteAndRehash, setHead, verifyOptions, type AuditFixture } from './support/audit-fixture.js';

/** A database superuser edits the tables with the triggers off; `audit verify` must notice each time. */
for (const backend of BACKENDS) {
  describe(`a superuser rewriting the audit log on ${backend}`, () => {
    let f: AuditFixture;
    before(async () => { f = await buildAuditFixture(await freshStore(backend)); });
    after(async () => { await f.store.close(); });
    const verifyAfter = (tamper: Parameters<typeof asDba>[1]) => asDba(f.store, tamper, (tx) => verifyChain(tx, verifyOptions(f)));

    it('cutting the tail after the last checkpoint and moving the head back is caught by the anchor', async () => {
      const result = await verifyAfter(async (tx) => {
        await tx.execute(sql`DELETE FROM audit_checkpoints WHERE seq = 30`);
        await tx.execute(sql`DELETE FROM audit_events WHERE seq > 20`);
        await setHead(tx, 20, await hashAt(tx, 20));
      });
      assert.equal(result.ok, false);
      assert.match(result.reason!, /the database is behind its anchor: .* holds a checkpoint of event 30, but the chain ends at 20/);
    });

    it('cutting back past checkpoints and deleting them is caught by the anchor', async () => {
      const result = await verifyAfter(async (tx) => {
        await tx.execute(sql`DELETE FROM audit_checkpoints`);
        await tx.execute(sql`DELETE FROM audit_events WHERE seq > 12`);
        await setHead(tx, 12, await hashAt(tx, 12));
      });
      assert.equal(result.firstBadSeq, 13);
      assert.match(result.reason!, /behind its anchor/);
    });

    it('a forged event appended with a valid hash is caught: unsigned past the grace', async () => {
      const result = await verifyAfter(async (tx) => {
        await insertEvent(tx, 31, forgedEvent(31, await hashAt(tx, 30), 'appended'));
        await setHead(tx, 31, await hashAt(tx, 31));
      });
      assert.equal(result.firstBadSeq, 31);
      assert.match(result.reason!, /events 31-31 are unsigned since/);
    });

    it('every checkpoint deleted and the whole chain re-hashed is caught by the anchor', async () => {
      const result = await verifyAfter(async (tx) => {
        await tx.execute(sql`DELETE FROM audit_checkpoints`);
        await rewriteAndRehash(tx, 3);
      });
      assert.equal(result.firstBadSeq, 20);
      assert.match(result.reason!, /event 20 does not have the hash the checkpoint in .* signed: the database disagrees with its anchor/);
    });

    it('an identity_id column rewritten outside the hash is named', async () => {
      const result = await verifyAfter((tx) => tx.execute(sql`UPDATE audit_events SET identity_id = ${f.bob} WHERE seq = 7`));
      assert.equal(result.firstBadSeq, 7);
      assert.match(result.reason!, /event 7: column identity_id says .* but the hashed event says/);
    });
  });
}
