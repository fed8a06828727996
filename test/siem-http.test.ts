import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { chainHash } from '../src/audit/chain.js';
import { scrape } from '../src/metrics/server.js';
import { cursorName, streamTarget } from '../src/siem/stream.js';
import type { SiemTarget } from '../src/siem/config.js';
import type { Store } from '../src/store/database.js';
import type { Context } from '../src/work/context.js';
import { BACKENDS, freshStore } from './support/backends.js';
import { cursorAt, eventHashes, onlyTarget, recordSome, systemContext } from './support/siem.js';
import { startReceiver, type Receiver } from './support/webhook-receiver.js';

interface OcsfLine {
  class_uid: number; activity_id: number; type_uid: number; category_uid: number; time: number; severity_id: number;
  metadata: { uid: string; sequence: number; product: { name: string; version: string } };
  raw_data: string;
  unmapped: { tenure: { seq: number; hash: string; prev_hash: string; event: { action: string } } };
}

const linesOf = (receiver: Receiver, from = 0): OcsfLine[] => receiver.hits.slice(from).flatMap((hit) => {
  assert.ok(hit.body.endsWith('\n'), 'every line ends with a newline');
  return hit.body.slice(0, -1).split('\n').map((line) => JSON.parse(line) as OcsfLine);
});

for (const backend of BACKENDS) {
  describe(`the audit log as OCSF JSON lines over HTTP (${backend})`, () => {
    let store: Store;
    let ctx: Context;
    let receiver: Receiver;
    let target: SiemTarget;
    const tokenDir = mkdtempSync(join(tmpdir(), 'tenure-siem-token-'));

    before(async () => {
      store = await freshStore(backend);
      ctx = systemContext(store);
      receiver = await startReceiver();
      writeFileSync(join(tokenDir, 'token'), 'siem-secret-token\n', { mode: 0o600 });
      target = onlyTarget({ TENURE_SIEM_HTTP: receiver.url, TENURE_SIEM_HTTP_TOKEN_FILE: join(tokenDir, 'token') });
    });
    after(async () => { await receiver.close(); await store.close(); rmSync(tokenDir, { recursive: true, force: true }); });

    it('POSTs one OCSF object per line per event, in seq order, with the bearer token from the file', async () => {
      await recordSome(ctx, 7);
      assert.deepEqual(await streamTarget(store.db, target, { batchSize: 3 }), { target: 'http', sent: 7, busy: false });
      assert.equal(receiver.hits.length, 3);
      for (const hit of receiver.hits) {
        assert.equal(hit.headers.authorization, 'Bearer siem-secret-token');
        assert.equal(hit.headers['content-type'], 'application/x-ndjson');
      }
      const stored = await eventHashes(store.db);
      const lines = linesOf(receiver);
      assert.deepEqual(lines.map((line) => line.metadata.sequence), [1, 2, 3, 4, 5, 6, 7]);
      for (const line of lines) {
        const tenure = line.unmapped.tenure;
        assert.equal(line.metadata.uid, String(tenure.seq));
        assert.equal(tenure.hash, stored.get(tenure.seq)!.hash);
        assert.equal(chainHash(tenure.prev_hash, line.raw_data), tenure.hash);
        assert.equal(line.type_uid, line.class_uid * 100 + line.activity_id);
        assert.equal(line.metadata.product.name, 'Tenure');
      }
      assert.deepEqual(lines.slice(0, 5).map((line) => [line.unmapped.tenure.event.action, line.class_uid, line.activity_id]), [
        ['identity.created', 3001, 1], ['grant.created', 3005, 1], ['grant.revoked', 3005, 2], ['session.created', 3002, 1], ['finding.opened', 0, 99],
      ]);
      assert.equal(await cursorAt(store.db, cursorName(target)), 7);
    });

    it('does not advance on a 500 answer, shows the backlog in the metrics, and sends the same events again at the next run', async () => {
      await recordSome(ctx, 2);
      receiver.respond = () => 500;
      const failed = await streamTarget(store.db, target);
      assert.match(failed.error ?? '', /answered 500/);
      assert.equal(failed.sent, 0);
      assert.equal(await cursorAt(store.db, cursorName(target)), 7);
      const metrics = (await scrape({ store, clock: { now: () => new Date(ctx.clock.now().getTime() + 90_000) } })).body;
      assert.match(metrics, /^tenure_siem_backlog_events\{target="http"\} 2$/m);
      assert.match(metrics, /^tenure_siem_oldest_unsent_seconds\{target="http"\} 90$/m);
      receiver.respond = () => 200;
      const seen = receiver.hits.length;
      assert.deepEqual(await streamTarget(store.db, target), { target: 'http', sent: 2, busy: false });
      assert.deepEqual(linesOf(receiver, seen - 1).map((line) => line.metadata.sequence), [8, 9, 8, 9]);
      assert.equal(await cursorAt(store.db, cursorName(target)), 9);
    });

    it('treats a redirect as a failure rather than following it with the token', async () => {
      await recordSome(ctx, 1);
      receiver.respond = () => 307;
      assert.match((await streamTarget(store.db, target)).error ?? '', /answered 307/);
      assert.equal(await cursorAt(store.db, cursorName(target)), 9);
      receiver.respond = () => 200;
    });
  });
}
