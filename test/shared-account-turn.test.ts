import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, before, beforeEach, describe, it } from 'node:test';
import { sql } from 'drizzle-orm';
import { runLifecycleTick } from '../src/jobs/lifecycle.js';
import { createIdentity } from '../src/operations/create-identity.js';
import { createWebhook } from '../src/operations/create-webhook.js';
import { revokeGrant } from '../src/operations/revoke-grant.js';
import { rawRows } from '../src/store/database.js';
import { keyRing, webhookKey } from '../src/webhooks/crypto.js';
import { runWebhookTick } from '../src/webhooks/index.js';
import { BACKENDS, freshStore } from './support/backends.js';
import { addressEveryone, mailTick } from './support/mail-world.js';
import { applyPolicyText } from './support/provisioning-world.js';
import { askFor, sharedAccountPolicy } from './support/shared-account-line.js';
import { startSmtpSink, type SmtpSink } from './support/smtp-sink.js';
import { generateKeyPair } from './support/sshd.js';
import { startReceiver, type Receiver } from './support/webhook-receiver.js';
import { buildWorld, HOUR, type World } from './support/world.js';

/**
 * Issue 18: the person first in a shared account's line is told when the account is handed to them,
 * by mail (through the outbox, to a real SMTP server) and by the `shared_account.turn` webhook (to a
 * real HTTP receiver). The hand-over and its audit event commit together; the outboxes are filled
 * from that event, so it is told once however the passes and dispatches are repeated.
 */
const TURN = /^Your turn: bastion\/ops on bastion is yours now$/;
const key = keyRing([webhookKey(randomBytes(32), 'test')]);

interface Turn { id: string; type: string; data: Record<string, any> } // eslint-disable-line @typescript-eslint/no-explicit-any -- a received JSON payload

for (const backend of BACKENDS) {
  describe(`a shared account's next in line is told when their turn comes (${backend})`, () => {
    let w: World;
    let dir: string;
    let sink: SmtpSink;
    let rx: Receiver;

    before(() => { dir = mkdtempSync(join(tmpdir(), 'tenure-turn-')); });
    after(() => rmSync(dir, { recursive: true, force: true }));
    beforeEach(async () => {
      w = await buildWorld(await freshStore(backend));
      await applyPolicyText(w, sharedAccountPolicy(dir, { ca: generateKeyPair(dir, `ca-${Date.now()}`), upstream: generateKeyPair(dir, `up-${Date.now()}`) }));
      for (const handle of ['ops-a', 'ops-b']) await createIdentity(await w.as('ada'), { handle, displayName: handle, kind: 'employee', manager: 'sam' });
      await addressEveryone(w.store);
      sink = await startSmtpSink();
      rx = await startReceiver();
      await createWebhook(await w.as('ada'), { url: rx.url, events: ['shared_account.turn', 'grant.activated'] }, key);
    });
    afterEach(async () => { await rx.close(); await sink.stop(); await w.store.close(); });

    const checkOut = async (handle: string, duration = '2h') => (await askFor(w, handle, duration)).grantId!;
    /** The mail and webhook outboxes filled and sent, as the worker does after its lifecycle pass. */
    const tell = async () => { await mailTick(w, sink); await runWebhookTick(w.worker, { key }); };
    const turnMails = () => sink.received.filter((m) => TURN.test(m.mail.subject ?? ''));
    const turnHooks = () => rx.hits.map((h) => JSON.parse(h.body) as Turn).filter((p) => p.type === 'shared_account.turn');
    const handedOver = () => rawRows<{ n: number }>(w.store.db, sql`SELECT count(*)::int AS n FROM audit_events WHERE action = 'shared_account.handed_over'`);

    it('hands the account to the first of two waiting at the check-in, and tells only them, once, by mail and webhook', async () => {
      const held = await checkOut('eve');
      const [first, second] = [await askFor(w, 'ops-a', '1h'), await askFor(w, 'ops-b', '1h')];
      assert.deepEqual([first.queue?.position, second.queue?.position], [1, 2]);
      await tell();
      assert.deepEqual([turnMails().length, turnHooks().length], [0, 0], 'nobody is told while eve holds it');
      await revokeGrant(await w.as('eve'), { grant: held, reason: 'checked in' });
      assert.equal((await runLifecycleTick(w.worker)).checkOutsGiven, 1);
      await tell();

      const mails = turnMails();
      assert.deepEqual(mails.map((m) => m.to), [['ops-a@example.org']], 'ops-a, and not ops-b behind them');
      assert.match(mails[0]!.mail.text ?? '', /ops-a now holds the shared account bastion\/ops on bastion, until /);
      assert.match(mails[0]!.mail.text ?? '', /eve's check-out was checked in or revoked at /);
      assert.match(mails[0]!.mail.text ?? '', /1 more wait in line after you/);
      assert.match(mails[0]!.mail.text ?? '', /https:\/\/tenure\.example\.org\/#\/access/);
      assert.deepEqual(sink.received.filter((m) => m.to.includes('ops-a@example.org') && /^Access granted/.test(m.mail.subject ?? '')), [],
        'the turn is the one mail: not also "Access granted"');
      const hooks = turnHooks();
      assert.equal(hooks.length, 1);
      const given = (await rawRows<{ grant_id: string }>(w.store.db, sql`SELECT grant_id FROM access_requests WHERE id = ${first.id}`))[0]!.grant_id;
      assert.deepEqual({ identity: hooks[0]!.data.identity, grant: hooks[0]!.data.grantId, entitlement: hooks[0]!.data.entitlement,
        previous: hooks[0]!.data.previousHolder.handle, ended: hooks[0]!.data.previousHolder.ended, waiting: hooks[0]!.data.stillWaiting },
      { identity: 'ops-a', grant: given, entitlement: 'bastion/ops', previous: 'eve', ended: 'revoked', waiting: 1 });
      assert.equal(rx.hits.map((h) => JSON.parse(h.body) as Turn).filter((p) => p.type === 'grant.activated' && p.data.grantId === given).length, 1,
        'subscribers of grant.activated still learn of the grant');

      // Replays: another pass, and both outboxes dispatched again from before the hand-over (a crash before the cursors moved).
      assert.equal((await runLifecycleTick(w.worker)).checkOutsGiven, 0);
      await w.store.db.execute(sql`UPDATE feed_cursors SET seq = 0 WHERE name IN ('mail', 'webhooks')`);
      await tell();
      assert.deepEqual([turnMails().length, turnHooks().length, (await handedOver())[0]!.n], [1, 1, 1], 'told once, whatever is repeated');
    });

    it('hands the account on when the holder is revoked, and again when the next check-out ends, telling each in turn', async () => {
      const held = await checkOut('eve');
      const [first, second] = [await askFor(w, 'ops-a', '1h'), await askFor(w, 'ops-b', '1h')];
      assert.deepEqual([first.status, second.status], ['queued', 'queued']);
      await revokeGrant(await w.as('ada'), { grant: held, reason: 'an emergency needs it' });
      assert.equal((await runLifecycleTick(w.worker)).checkOutsGiven, 1);
      await tell();
      assert.deepEqual(turnMails().map((m) => m.to), [['ops-a@example.org']]);
      w.clock.advance(HOUR + 60_000);
      const pass = await runLifecycleTick(w.worker);
      assert.deepEqual([pass.grantsExpired, pass.checkOutsGiven], [1, 1], 'ops-a\'s hour ended; ops-b gets it in the same pass');
      await tell();
      assert.deepEqual(turnMails().map((m) => m.to), [['ops-a@example.org'], ['ops-b@example.org']]);
      const last = turnHooks().at(-1)!;
      assert.deepEqual([last.data.identity, last.data.previousHolder.handle, last.data.previousHolder.ended, last.data.stillWaiting],
        ['ops-b', 'ops-a', 'expired', 0]);
      assert.doesNotMatch(turnMails()[1]!.mail.text ?? '', /more wait in line/);
    });

    if (backend === 'postgres') {
      it('hands over and tells once when check-ins, revocations and worker passes all come at once', async () => {
        const held = await checkOut('eve');
        await askFor(w, 'ops-a', '1h');
        await askFor(w, 'ops-b', '1h');
        const calls = [
          ...Array.from({ length: 4 }, async () => revokeGrant(await w.as('eve'), { grant: held, reason: 'checked in' })),
          ...Array.from({ length: 4 }, async () => revokeGrant(await w.as('ada'), { grant: held, reason: 'needed elsewhere' })),
          ...Array.from({ length: 8 }, () => runLifecycleTick(w.worker)),
          ...Array.from({ length: 4 }, () => tell()),
        ];
        const outcomes = await Promise.allSettled(calls);
        const faults = outcomes.flatMap((o) => (o.status === 'rejected' ? [String((o.reason as { code?: string }).code ?? o.reason)] : []));
        assert.ok(faults.every((code) => code.startsWith('grant.')), `only the refusals of a grant already ended: ${faults.join(', ')}`);
        await runLifecycleTick(w.worker);
        await Promise.all([tell(), tell(), tell()]);
        const given = await rawRows<{ handle: string; status: string }>(w.store.db, sql`
          SELECT i.handle, g.status FROM grants g JOIN identities i ON i.id = g.identity_id WHERE g.status IN ('scheduled', 'active')`);
        assert.deepEqual(given, [{ handle: 'ops-a', status: 'active' }]);
        assert.equal((await handedOver())[0]!.n, 1);
        assert.deepEqual(turnMails().map((m) => m.to), [['ops-a@example.org']]);
        assert.deepEqual(turnHooks().map((p) => p.data.identity), ['ops-a']);
      });
    }
  });
}
