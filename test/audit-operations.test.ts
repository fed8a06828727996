import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { loadSigningKey, publicKeyPem, trustedKeysFrom, type SigningKey } from '../src/audit/signing-key.js';
import { TenureError } from '../src/domain/errors.js';
import { createRequest } from '../src/operations/create-request.js';
import { exportAudit } from '../src/operations/export-audit.js';
import { searchAudit } from '../src/operations/search-audit.js';
import { verifyAudit } from '../src/operations/verify-audit.js';
import { writeAuditCheckpoint } from '../src/operations/write-checkpoint.js';
import type { Store } from '../src/store/database.js';
import { BACKENDS, freshStore } from './support/backends.js';
import { tempAnchor, tempDir } from './support/audit-fixture.js';
import type { AnchorConfig } from '../src/audit/anchor.js';
import { buildWorld, type World } from './support/world.js';

const refusedWith = (code: string) => (error: unknown) => error instanceof TenureError && error.code === code;
const sink = () => new Writable({ write(_chunk, _encoding, done) { done(); } });

for (const backend of BACKENDS) {
  describe(`audit use cases on ${backend}`, () => {
    let store: Store;
    let w: World;
    let key: SigningKey;
    let anchor: AnchorConfig;
    const verifyAs = async (handle: string, trusted = trustedKeysFrom([key.publicKey])) =>
      verifyAudit(await w.as(handle), { trustedKeys: trusted, anchor, unsignedGraceMs: 30_000 });
    before(async () => {
      anchor = tempAnchor();
      store = await freshStore(backend);
      w = await buildWorld(store);
      key = loadSigningKey({ env: {}, dataDir: tempDir('audit-key'), create: true })!;
      await createRequest(await w.as('carl'), { entitlement: 'payments/read', justification: 'month-end reporting', duration: '2d' });
    });
    after(async () => { await store.close(); });

    it('an auditor verifies once a checkpoint covers the log, then searches and exports it', async () => {
      const audrey = await w.as('audrey');
      const unsigned = await verifyAs('audrey');
      assert.equal(unsigned.ok, false);
      assert.match(unsigned.reason!, /no signed checkpoint covers any of the \d+ events/);
      assert.equal((await verifyAudit(audrey, { trustedKeys: new Map(), anchor, unsignedGraceMs: 30_000, allowUnsigned: true })).ok, true);
      await writeAuditCheckpoint(w.worker, key, anchor);
      const verified = await verifyAs('audrey');
      assert.equal(verified.ok, true, verified.reason ?? '');
      const carl = await w.id('carl');
      const aboutCarl = await searchAudit(audrey, { identity: 'carl' });
      assert.ok(aboutCarl.events.length >= 2);
      assert.ok(aboutCarl.events.every((e) => e.identityId === carl));
      const requests = await searchAudit(audrey, { system: 'payments', action: 'request.created', actor: 'carl' });
      assert.equal(requests.events.length, 1);
      assert.equal(requests.events[0]?.actor.id, carl);
      const exported = await exportAudit(audrey, { identity: 'carl' }, sink());
      assert.equal(exported.events, aboutCarl.events.length);
    });

    it('search pages with a limit and names where the next page starts', async () => {
      const audrey = await w.as('audrey');
      const first = await searchAudit(audrey, { limit: 2 });
      assert.equal(first.events.length, 2);
      assert.equal(first.nextAfterSeq, first.events[1]?.seq);
      const second = await searchAudit(audrey, { limit: 2, afterSeq: first.nextAfterSeq! });
      assert.ok(second.events[0]!.seq > first.nextAfterSeq!);
      const all = await searchAudit(audrey, { limit: 5000 });
      assert.equal(all.nextAfterSeq, null);
    });

    it('people without an audit role may not read the audit log', async () => {
      const carl = await w.as('carl');
      await assert.rejects(searchAudit(carl, { identity: 'carl' }), refusedWith('actor.forbidden'));
      await assert.rejects(verifyAudit(carl, { trustedKeys: new Map(), anchor, unsignedGraceMs: 30_000 }), refusedWith('actor.forbidden'));
      await assert.rejects(exportAudit(carl, {}, sink()), refusedWith('actor.forbidden'));
      await assert.rejects(searchAudit(w.worker, {}), refusedWith('actor.required'));
    });

    it('search names an unknown identity or system instead of matching nothing', async () => {
      const audrey = await w.as('audrey');
      await assert.rejects(searchAudit(audrey, { identity: 'nobody' }), refusedWith('identity.not_found'));
      await assert.rejects(searchAudit(audrey, { system: 'mainframe' }), refusedWith('system.not_found'));
      await assert.rejects(searchAudit(audrey, { action: 'grant.teleported' as 'grant.created' }), refusedWith('input.invalid'));
      await assert.rejects(searchAudit(audrey, { from: '2030-02-01T00:00:00Z', to: '2030-01-01T00:00:00Z' }), refusedWith('input.invalid'));
    });

    it('the worker signs checkpoints without an identity; an admin may too, an auditor may not', async () => {
      await createRequest(await w.as('eve'), { entitlement: 'crm/read', justification: 'pipeline review', duration: '1d' });
      const signed = await writeAuditCheckpoint(w.worker, key, anchor);
      assert.equal(signed.written, true);
      assert.equal(signed.keyId, key.keyId);
      await assert.rejects(writeAuditCheckpoint(await w.as('audrey'), key, anchor), refusedWith('actor.forbidden'));
      await createRequest(await w.as('carl'), { entitlement: 'crm/read', justification: 'customer lookup', duration: '1d' });
      const byAdmin = await writeAuditCheckpoint(await w.as('ada'), key, anchor);
      assert.equal(byAdmin.written, true);
      assert.ok(byAdmin.seq! > signed.seq!);
      assert.equal((await writeAuditCheckpoint(w.worker, key, anchor)).written, false, 'the head has not moved');
      const verified = await verifyAs('audrey');
      assert.deepEqual([verified.ok, verified.checkpoints, verified.anchoredSeq], [true, 3, byAdmin.seq]);
    });

    it('a checkpoint needs a configured private key', async () => {
      const publicOnly = loadSigningKey({ env: { TENURE_AUDIT_SIGNING_KEY: publicKeyPem(key) }, dataDir: tempDir('audit-key'), create: false });
      await assert.rejects(writeAuditCheckpoint(w.worker, publicOnly, anchor), refusedWith('audit.signing_key_missing'));
      await assert.rejects(writeAuditCheckpoint(w.worker, undefined, anchor), refusedWith('audit.signing_key_missing'));
    });
  });
}
