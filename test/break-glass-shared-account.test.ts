import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { sql } from 'drizzle-orm';
import type { FastifyInstance } from 'fastify';
import { parse, stringify } from 'yaml';
import { loadHttpConfig } from '../src/config.js';
import { renderEvidenceHtml } from '../src/evidence/render-html.js';
import { buildApp } from '../src/http/app.js';
import { buildEvidencePack } from '../src/operations/build-evidence-pack.js';
import { createToken } from '../src/operations/create-token.js';
import { startBreakGlass } from '../src/operations/start-break-glass.js';
import { rawRows } from '../src/store/database.js';
import { BACKENDS, freshStore } from './support/backends.js';
import { applyPolicyText } from './support/provisioning-world.js';
import { recordSession, recordSshSession } from './support/proxy-session-fixture.js';
import { askFor, sharedAccountPolicy } from './support/shared-account-line.js';
import { generateKeyPair } from './support/sshd.js';
import { buildWorld, type World } from './support/world.js';

/**
 * Issue 18: a break-glass review singles out what the user did on a shared account. Eve breaks the
 * glass on the shared `bastion/ops` and, in the same window, also uses her own payments/read: the
 * review (over the API), its decision's audit event and the evidence pack put the shared account's
 * session first and mark it, with the account and the recording's audited SHA-256.
 */
interface View { id: string; account: string; person: string; sharedAccount: boolean; auditedSha256: string | null; verified: unknown }

const policy = (dir: string): string => {
  const doc = parse(sharedAccountPolicy(dir, { ca: generateKeyPair(dir, 'ca'), upstream: generateKeyPair(dir, 'upstream') })) as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- a YAML document edited in place
  doc.systems.bastion.shared_accounts.ops.break_glass = true;
  doc.break_glass = { users: ['eve'], reviewers: ['group:secops'], max_ttl: '2h' };
  return stringify(doc);
};

for (const backend of BACKENDS) {
  describe(`a break-glass review singles out sessions on a shared account (${backend})`, () => {
    let w: World;
    let dir: string;
    let app: FastifyInstance;
    let own: string[];
    let onShared: string;

    before(async () => {
      dir = mkdtempSync(join(tmpdir(), 'tenure-bg-shared-'));
      w = await buildWorld(await freshStore(backend));
      await applyPolicyText(w, policy(dir));
      const read = (await askFor(w, 'eve', '2d', 'payments/read')).grantId!;
      w.clock.advance(60_000);
      const glass = await startBreakGlass(await w.as('eve'), { entitlement: 'bastion/ops', incident: 'INC-77', reason: 'disk full on web1' });
      w.clock.advance(60_000);
      own = [await recordSession(w, read, ['SELECT 1'])];
      w.clock.advance(60_000);
      onShared = await recordSshSession(w, glass.grantId, ['# df -h\r\n/dev/sda1 100%\r\n'], { account: 'ops', host: 'web1' });
      w.clock.advance(60_000);
      own.push(await recordSession(w, read, ['SELECT 2']));
      app = await buildApp({ store: w.store, clock: w.clock, http: loadHttpConfig({}) });
    });
    after(async () => { await app?.close(); await w?.store.close(); rmSync(dir, { recursive: true, force: true }); });

    const call = async (method: 'GET' | 'POST', url: string, handle: string, payload?: object) => {
      const token = (await createToken(await w.as(handle), { name: `${handle}-${Math.random()}`, scopes: ['read', 'write'] })).secret;
      const reply = await app.inject({ method, url, headers: { authorization: `Bearer ${token}` }, ...(payload ? { payload } : {}) });
      assert.equal(reply.statusCode, 200, reply.body);
      return reply.json();
    };

    it('lists the session on the shared account first, marked, with the account and the audited digest of its recording, then the others oldest first', async () => {
      const [review] = (await call('GET', '/v1/breakglass/reviews?status=pending', 'selma')).items as { evidence: { proxySessions: View[] } }[];
      const sessions = review!.evidence.proxySessions;
      assert.deepEqual(sessions.map((s) => [s.id, s.sharedAccount, s.account, s.person]),
        [[onShared, true, 'ops@web1', 'eve'], [own[0], false, 't_eve', 'eve'], [own[1], false, 't_eve', 'eve']]);
      const [{ canonical }] = await rawRows<{ canonical: string }>(w.store.db, sql`
        SELECT canonical FROM audit_events WHERE action = 'proxy_session.ended' AND subject_id = ${onShared}`) as [{ canonical: string }];
      assert.equal(sessions[0]!.auditedSha256, (JSON.parse(canonical) as { data: { recordingSha256: string } }).data.recordingSha256);
      assert.equal(sessions[0]!.verified, true);
    });

    it('puts the shared account on the decision\'s audit event, with the sessions the reviewer had before them', async () => {
      const [review] = (await call('GET', '/v1/breakglass/reviews?status=pending', 'selma')).items as { id: string }[];
      await call('POST', `/v1/breakglass/reviews/${review!.id}/decide`, 'selma', { outcome: 'appropriate', comment: 'the disk was full' });
      const [event] = await rawRows<{ canonical: string }>(w.store.db, sql`SELECT canonical FROM audit_events WHERE action = 'breakglass.reviewed'`);
      const { sessions } = (JSON.parse(event!.canonical) as { after: { sessions: { id: string; sharedAccount?: string }[] } }).after;
      assert.deepEqual(sessions.map((s) => [s.id, s.sharedAccount ?? null]), [[onShared, 'ops@web1'], [own[0], null], [own[1], null]]);
    });

    it('puts the shared account\'s sessions first in the evidence pack, marked, and in a table of their own in its HTML', async () => {
      const pack = await call('GET', '/v1/evidence/identity/eve', 'audrey') as { proxySessions: View[] };
      assert.deepEqual(pack.proxySessions.map((s) => [s.id, s.sharedAccount]), [[onShared, true], [own[0], false], [own[1], false]]);
      const html = renderEvidenceHtml(await buildEvidencePack(await w.as('audrey'), { subject: 'identity', ref: 'eve' }));
      const shared = html.split('<h2>Sessions on shared accounts</h2>')[1]?.split('<h2>')[0] ?? '';
      assert.ok(shared.includes(onShared) && shared.includes('ops@web1'), 'the shared account\'s session is in its own table');
      assert.ok(!shared.includes(own[0]!), 'and only it');
    });
  });
}
