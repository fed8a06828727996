import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { scanCredentials } from '../src/jobs/credentials.js';
import { changeIdentityStatus } from '../src/operations/change-identity-status.js';
import { listCredentials } from '../src/operations/list-credentials.js';
import { listFindings } from '../src/operations/list-findings.js';
import { registerCredential } from '../src/operations/register-credential.js';
import { retireCredential } from '../src/operations/retire-credential.js';
import { rotateCredential } from '../src/operations/rotate-credential.js';
import type { Store } from '../src/store/database.js';
import { refusedWith } from './support/assert.js';
import { BACKENDS, freshStore } from './support/backends.js';
import { buildWorld, DAY, type World } from './support/world.js';

const fingerprintOf = (secret: string) => `sha256:${createHash('sha256').update(secret).digest('hex')}`;

for (const backend of BACKENDS) {
  describe(`credentials of non-human identities: by fingerprint, with owners, rotation and findings (${backend})`, () => {
    let store: Store;
    let w: World;
    const openOf = async (credentialId: string) => (await listFindings(await w.as('selma'), { status: 'open' }))
      .filter((f) => (f.evidence as { credentialId?: string }).credentialId === credentialId);
    before(async () => { store = await freshStore(backend); w = await buildWorld(store); });
    after(async () => { await store?.close(); });

    it('the owner of a service account registers its credential by fingerprint; a secret pasted instead is refused and never repeated', async () => {
      const secret = 'tnr_live_0123456789abcdefghijklmnopqrstuvwxyz';
      const error = await refusedWith(registerCredential(await w.as('tom'), { identity: 'bot', kind: 'api_key', name: 'reporting', fingerprint: secret }),
        'credential.fingerprint_invalid', 'fingerprint');
      assert.ok(!error.message.includes(secret));
      const created = await registerCredential(await w.as('tom'), {
        identity: 'bot', kind: 'api_key', name: 'reporting', fingerprint: fingerprintOf(secret), system: 'payments',
        expiresAt: new Date(w.clock.now().getTime() + 60 * DAY),
      });
      const [listed] = await listCredentials(await w.as('tom'), { identity: 'bot' });
      assert.deepEqual({ id: listed!.id, kind: listed!.kind, system: listed!.system }, { id: created.id, kind: 'api_key', system: 'payments' });
      assert.ok(!JSON.stringify(listed).includes(secret));
    });

    it('nobody but the owner or IAM manages a service account\'s credentials, and no credential outlives its kind\'s maximum age', async () => {
      const input = { identity: 'bot', kind: 'token' as const, name: 'ci', fingerprint: fingerprintOf('ci-token') };
      await refusedWith(registerCredential(await w.as('carl'), input), 'actor.forbidden', 'identity');
      await refusedWith(registerCredential(await w.as('sam'), input), 'actor.forbidden', 'identity');
      await refusedWith(registerCredential(await w.as('ivan'), { ...input, expiresAt: new Date(w.clock.now().getTime() + 200 * DAY) }),
        'credential.expiry_too_late', 'expiresAt');
      const created = await registerCredential(await w.as('ivan'), input);
      await refusedWith(rotateCredential(await w.as('carl'), { credential: created.id, fingerprint: fingerprintOf('ci-token-2') }), 'actor.forbidden');
      await refusedWith(registerCredential(await w.as('tom'), { ...input, name: 'copy' }), 'credential.fingerprint_taken', 'fingerprint');
    });

    it('the scan finds rotation overdue, no expiry and no use, each for the owner; rotation closes what it fixes', async () => {
      const created = await registerCredential(await w.as('tom'), {
        identity: 'bot', kind: 'password', name: 'legacy db login', fingerprint: fingerprintOf('hunter2'),
        createdAt: new Date(w.clock.now().getTime() - 120 * DAY),
      });
      await scanCredentials(w.worker);
      const found = await openOf(created.id);
      assert.deepEqual(found.map((f) => f.kind).sort(), ['credential_no_expiry', 'credential_rotation_overdue', 'credential_unused']);
      assert.ok(found.every((f) => f.owner === 'tom'), 'routed to the accountable owner');
      assert.deepEqual(found.find((f) => f.kind === 'credential_rotation_overdue')!.frameworks.owaspNhi, ['NHI7:2025']);
      const summary = (kind: string) => found.find((f) => f.kind === kind)!.summary;
      assert.match(summary('credential_rotation_overdue'), /last rotated on \d{4}-\d{2}-\d{2}, 120 days ago; it is to be rotated every \d+ days$/);
      assert.match(summary('credential_unused'), /not been used since \d{4}-\d{2}-\d{2}, 120 days ago$/);
      assert.ok(found.every((f) => !/T\d{2}:\d{2}/.test(f.summary)), 'summaries are read by people: no raw timestamps');

      await rotateCredential(await w.as('tom'), { credential: created.id, fingerprint: fingerprintOf('a much better secret'),
        expiresAt: new Date(w.clock.now().getTime() + 30 * DAY) });
      w.clock.advance(60_000);
      const { closed } = await scanCredentials(w.worker);
      assert.ok(closed >= 2);
      assert.deepEqual((await openOf(created.id)).map((f) => f.kind), ['credential_unused'], 'rotating is not using');
    });

    it('a credential whose owner leaves is a finding nobody owns, and retiring the credential closes its findings', async () => {
      const [password] = (await listCredentials(await w.as('tom'), { identity: 'bot' })).filter((c) => c.kind === 'password');
      await changeIdentityStatus(await w.as('ivan'), { identity: 'tom', status: 'terminated', reason: 'left the company' });
      w.clock.advance(60_000);
      await scanCredentials(w.worker);
      const departed = (await openOf(password!.id)).find((f) => f.kind === 'credential_owner_departed');
      assert.equal(departed?.owner, null);
      await retireCredential(await w.as('ivan'), { credential: password!.id, reason: 'password removed from the database' });
      assert.deepEqual(await openOf(password!.id), []);
      await refusedWith(rotateCredential(await w.as('ivan'), { credential: password!.id, fingerprint: fingerprintOf('again') }), 'credential.retired');
    });
  });
}
