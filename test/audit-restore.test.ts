import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { sql } from 'drizzle-orm';
import { appendAuditEvents } from '../src/audit/append.js';
import { writeCheckpoint } from '../src/audit/checkpoint.js';
import { RESTORE_ACKNOWLEDGED } from '../src/audit/restore.js';
import { verifyChain } from '../src/audit/verify.js';
import { TenureError } from '../src/domain/errors.js';
import type { Tx } from '../src/store/database.js';
import { BACKENDS, freshStore } from './support/backends.js';
import { asDba, buildAuditFixture, hashAt, setHead, verifyOptions, type AuditFixture } from './support/audit-fixture.js';
import { TENURE_BIN } from './support/tenure-process.js';

/** What a restore to event 20 leaves, or an owner of the database cutting the tail back to it. */
const cutTo20 = async (tx: Tx): Promise<void> => {
  await tx.execute(sql`DELETE FROM audit_checkpoints WHERE seq > 20`);
  await tx.execute(sql`DELETE FROM audit_events WHERE seq > 20`);
  await setHead(tx, 20, await hashAt(tx, 20));
};

/** An acknowledgement event chained properly onto the head, as anyone who can write the tables can append. */
const appendAcknowledgement = (tx: Tx, f: AuditFixture) => appendAuditEvents(tx, f.clock.now(), { id: undefined, channel: 'system' }, [{
  action: RESTORE_ACKNOWLEDGED, subject: { type: 'audit', id: 'chain' }, reason: 'restored the backup of 09:00',
  data: { forkSeq: 20, forkHash: 'x', supersededSeq: 30, supersededHash: 'y', anchorFile: f.anchor.file },
}]);

const refusal = (promise: Promise<unknown>) => promise.then(() => undefined, (error: unknown) => error);

for (const backend of BACKENDS) {
  describe(`a restore of the audit log on ${backend}`, () => {
    it('a cut tail with a forged acknowledgement is still behind its anchor, and no checkpoint is signed over it', async () => {
      const f = await buildAuditFixture(await freshStore(backend));
      try {
        const { result, signing } = await asDba(f.store, async (tx) => { await cutTo20(tx); await appendAcknowledgement(tx, f); },
          async (tx) => ({ result: await verifyChain(tx, verifyOptions(f)), signing: await refusal(writeCheckpoint(tx, f.clock.now(), f.key, f.anchor)) }));
        assert.equal(result.ok, false);
        assert.match(result.reason!, /the database is behind its anchor: .* holds a checkpoint of event 30, but the chain ends at 21/);
        assert.deepEqual(result.restores, [], 'no note vouches for the acknowledgement');
        // The running service's checkpointer is what an attacker would wait for: it refuses too.
        assert.ok(signing instanceof TenureError && signing.code === 'audit.chain_broken', String(signing));
        assert.match(signing.message, /behind its anchor.*acknowledge-restore/);
      } finally {
        await f.store.close();
      }
    });

    it('the key holder\'s acknowledgement, signed into the anchor, sets the given-up events aside and verify reports them', async () => {
      const f = await buildAuditFixture(await freshStore(backend));
      try {
        const result = await asDba(f.store, async (tx) => {
          await cutTo20(tx);
          await appendAcknowledgement(tx, f);
          await writeCheckpoint(tx, f.clock.now(), f.key, f.anchor, { overFork: true });
        }, (tx) => verifyChain(tx, verifyOptions(f)));
        assert.equal(result.ok, true, result.reason ?? '');
        assert.equal(result.anchoredSeq, 21);
        assert.deepEqual(result.restores.map((r) => [r.seq, r.forkSeq, r.supersededSeq]), [[21, 20, 30]]);
      } finally {
        await f.store.close();
      }
    });
  });
}

/** The operator's whole procedure, through the CLI on the embedded database, anchor kept apart as docs/operations.md says. */
describe('tenure audit acknowledge-restore after restoring a backup', () => {
  const root = mkdtempSync(join(tmpdir(), 'tenure-restore-'));
  const data = join(root, 'data');
  const env = { ...process.env, TENURE_DATA_DIR: data, TENURE_AUDIT_ANCHOR_FILE: join(root, 'anchor', 'audit-checkpoints.log'),
    DATABASE_URL: '', TENURE_SERVER: '', TENURE_ACTOR: '' };
  const tenure = (...args: string[]) => {
    const r = spawnSync(process.execPath, [TENURE_BIN, ...args], { env, encoding: 'utf8', timeout: 120_000 });
    return { code: r.status, out: r.stdout, err: r.stderr };
  };
  after(() => rmSync(root, { recursive: true, force: true }));

  it('verify fails after the restore until a security approver acknowledges it; a contractor cannot; a second acknowledgement has nothing to do', () => {
    assert.equal(tenure('demo').code, 0);
    cpSync(data, join(root, 'backup'), { recursive: true });
    const later = tenure('--as', 'ada', 'vendor', 'create', '--name', 'Made After The Backup', '--kind', 'other', '--owner', 'olivia', '--contract-end', '2031-01-01');
    assert.equal(later.code, 0, later.err);
    rmSync(data, { recursive: true, force: true });
    cpSync(join(root, 'backup'), data, { recursive: true });

    const behind = tenure('--as', 'audrey', 'audit', 'verify');
    assert.equal(behind.code, 3, behind.err);
    assert.match(behind.err + behind.out, /behind its anchor/);

    const contractor = tenure('--as', 'carl', 'audit', 'acknowledge-restore', '--reason', 'nothing to see');
    assert.equal(contractor.code, 3);
    assert.match(contractor.err, /actor\.forbidden/);

    const done = tenure('--as', 'selma', '--json', 'audit', 'acknowledge-restore', '--reason', 'restored the 09:00 backup after disk loss, CHG-1234');
    assert.equal(done.code, 0, done.err);
    const ack = JSON.parse(done.out) as { seq: number; forkSeq: number; supersededSeq: number; checkpoint: { seq: number } };
    assert.ok(ack.supersededSeq > ack.forkSeq, 'the events made after the backup are named as given up');
    assert.equal(ack.checkpoint.seq, ack.seq, 'signed over the acknowledgement at once');

    const verified = tenure('--as', 'audrey', '--json', 'audit', 'verify');
    assert.equal(verified.code, 0, verified.out + verified.err);
    const result = JSON.parse(verified.out) as { ok: boolean; restores: { seq: number; supersededSeq: number }[] };
    assert.deepEqual(result.restores.map((r) => [r.seq, r.supersededSeq]), [[ack.seq, ack.supersededSeq]]);

    const again = tenure('--as', 'selma', 'audit', 'acknowledge-restore', '--reason', 'again');
    assert.equal(again.code, 3);
    assert.match(again.err, /audit\.nothing_to_acknowledge/);
    // Work goes on after it, and is signed as usual.
    assert.equal(tenure('--as', 'ada', 'vendor', 'create', '--name', 'Made After The Restore', '--kind', 'other', '--owner', 'olivia', '--contract-end', '2031-01-01').code, 0);
    assert.equal(tenure('--as', 'audrey', 'audit', 'verify', '--strict').code, 0);
  });
});
