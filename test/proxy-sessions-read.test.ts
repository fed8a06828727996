import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { sql } from 'drizzle-orm';
import type { FastifyInstance } from 'fastify';
import { loadHttpConfig } from '../src/config.js';
import { buildApp } from '../src/http/app.js';
import { createToken } from '../src/operations/create-token.js';
import { listProxySessions, pageProxySessions } from '../src/operations/list-proxy-sessions.js';
import { showProxySession } from '../src/operations/show-proxy-session.js';
import { BACKENDS, freshStore } from './support/backends.js';
import { grantThrough } from './support/flows.js';
import { recordSession } from './support/proxy-session-fixture.js';
import { buildWorld, type World } from './support/world.js';

/**
 * Issue 18: proxied sessions are readable by those who answer for them, with their statement
 * timeline and a verdict on the recording recomputed against the digest in the audit chain.
 */
for (const backend of BACKENDS) {
  describe(`reading proxied sessions (${backend})`, () => {
    let w: World;
    let app: FastifyInstance;
    let grant: string;
    let ended: string;
    let open: string;
    let other: string;

    before(async () => {
      w = await buildWorld(await freshStore(backend));
      grant = await grantThrough(w, 'carl', { entitlement: 'payments/read', justification: 'quarter close', duration: '7d' }, ['sam', 'olivia']);
      ended = await recordSession(w, grant, ['SELECT 1', 'SELECT id FROM ledger']);
      w.clock.advance(60_000);
      other = await recordSession(w, grant, ['SELECT 2']);
      w.clock.advance(60_000);
      open = await recordSession(w, grant, ['SELECT 3'], { open: true });
      app = await buildApp({ store: w.store, clock: w.clock, http: loadHttpConfig({}) });
    });
    after(async () => { await app?.close(); await w?.store.close(); });

    const get = async (url: string, token: string) => app.inject({ method: 'GET', url, headers: { authorization: `Bearer ${token}` } });

    it('shows a session with its statement timeline, verified against the digest of its ended event', async () => {
      const session = await showProxySession(await w.as('carl'), { session: ended });
      assert.deepEqual({ person: session.person, system: session.system, entitlement: session.entitlement, grant: session.grant, verified: session.verified },
        { person: 'carl', system: 'payments', entitlement: 'payments/read', grant, verified: true });
      assert.equal(session.auditedSha256, session.recordingSha256);
      assert.deepEqual(session.timeline.map((s) => 'text' in s ? s.text : s.unreadable), ['SELECT 1', 'SELECT id FROM ledger']);
    });

    it('says nothing is verified yet while a session is open', async () => {
      assert.equal((await showProxySession(await w.as('carl'), { session: open })).verified, null);
    });

    it('lists sessions newest first, narrowed by grant, person, system and state, a page at a time', async () => {
      const selma = await w.as('selma');
      assert.deepEqual((await listProxySessions(selma, { grant })).map((s) => s.id), [open, other, ended]);
      assert.deepEqual((await listProxySessions(selma, { state: 'open' })).map((s) => s.id), [open]);
      assert.deepEqual((await listProxySessions(selma, { state: 'ended', identity: 'carl', system: 'payments' })).map((s) => s.id), [other, ended]);
      assert.deepEqual(await listProxySessions(selma, { system: 'crm' }), []);
      const first = await pageProxySessions(selma, { limit: 2 });
      const second = await pageProxySessions(selma, { limit: 2, cursor: first.nextCursor! });
      assert.deepEqual([...first.items, ...second.items].map((s) => s.id), [open, other, ended]);
      assert.equal(second.nextCursor, null);
    });

    it('lets the person, their sponsor, the system\'s owners, security, the auditor and the administrator read a session', async () => {
      for (const handle of ['carl', 'sam', 'olivia', 'tom', 'selma', 'audrey', 'ada']) {
        assert.equal((await showProxySession(await w.as(handle), { session: ended })).id, ended, handle);
        assert.equal((await listProxySessions(await w.as(handle), {})).length, 3, handle);
      }
    });

    it('refuses anyone else (IAM, another employee, a vendor operator) with actor.forbidden, and lists them nothing', async () => {
      for (const handle of ['ivan', 'eve', 'vera']) {
        await assert.rejects(showProxySession(await w.as(handle), { session: ended }), { code: 'actor.forbidden' }, handle);
        assert.deepEqual(await listProxySessions(await w.as(handle), {}), [], handle);
      }
    });

    it('over HTTP: a token acts as the identity it was minted for, so Tom\'s token for his bot reads none of what Tom may', async () => {
      const toms = (await createToken(await w.as('tom'), { name: 'tom-read', scopes: ['read'] })).secret;
      const bots = (await createToken(await w.as('tom'), { identity: 'bot', name: 'bot-read', scopes: ['read'] })).secret;
      const mine = await get(`/v1/proxy-sessions/${ended}`, toms);
      assert.equal(mine.statusCode, 200);
      assert.equal(mine.json().verified, true);
      const refused = await get(`/v1/proxy-sessions/${ended}`, bots);
      assert.deepEqual([refused.statusCode, refused.json().code], [403, 'actor.forbidden']);
      assert.deepEqual((await get('/v1/proxy-sessions', bots)).json().items, []);
      assert.equal((await get(`/v1/proxy-sessions?grant=${grant}&state=ended`, toms)).json().items.length, 2);
    });

    it('over HTTP: an unknown session is 404, and a malformed id or filter is a problem naming the field', async () => {
      const token = (await createToken(await w.as('selma'), { name: 'selma-read', scopes: ['read'] })).secret;
      const missing = await get('/v1/proxy-sessions/00000000-0000-4000-8000-000000000000', token);
      assert.deepEqual([missing.statusCode, missing.json().code], [404, 'proxy_session.not_found']);
      const bad = await get('/v1/proxy-sessions/nope', token);
      assert.equal(bad.statusCode, 400);
      const badState = await get('/v1/proxy-sessions?state=closed', token);
      assert.equal(badState.statusCode, 400);
      assert.match(JSON.stringify(badState.json()), /state/);
    });

    it('reports verified false when someone with database rights edits a stored statement, and still shows the line as stored', async () => {
      await w.store.db.execute(sql`UPDATE proxy_statements SET record = 'not json' WHERE session_id = ${ended} AND seq = 2`);
      const edited = await showProxySession(await w.as('audrey'), { session: ended });
      assert.equal(edited.verified, false);
      assert.deepEqual(edited.timeline[1], { seq: 2, unreadable: 'not json' });
      const listed = await listProxySessions(await w.as('audrey'), { state: 'ended' });
      assert.deepEqual(listed.map((s) => [s.id, s.verified]), [[other, true], [ended, false]]);
    });
  });
}
