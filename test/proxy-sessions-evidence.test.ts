import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { sql } from 'drizzle-orm';
import type { FastifyInstance } from 'fastify';
import { loadHttpConfig } from '../src/config.js';
import { buildApp } from '../src/http/app.js';
import { buildEvidencePack } from '../src/operations/build-evidence-pack.js';
import { createToken } from '../src/operations/create-token.js';
import { listBreakGlassReviews } from '../src/operations/list-break-glass-reviews.js';
import { listGrants } from '../src/operations/list-grants.js';
import { reviewBreakGlass } from '../src/operations/review-break-glass.js';
import { startBreakGlass } from '../src/operations/start-break-glass.js';
import { rawRows } from '../src/store/database.js';
import { BACKENDS, freshStore } from './support/backends.js';
import { breakGlassPolicy } from './support/break-glass-policy.js';
import { grantThrough } from './support/flows.js';
import { applyPolicyText } from './support/provisioning-world.js';
import { recordSession } from './support/proxy-session-fixture.js';
import { buildWorld, type World } from './support/world.js';

/** Issue 18: recorded sessions show where reviewers and auditors look: on the grant, in the break-glass review, in evidence packs. */
for (const backend of BACKENDS) {
  describe(`proxied sessions where reviewers look (${backend})`, () => {
    let w: World;
    let app: FastifyInstance;
    let carlsGrant: string;
    let carls: string[];
    let eves: string;

    before(async () => {
      w = await buildWorld(await freshStore(backend));
      await applyPolicyText(w, breakGlassPolicy());
      carlsGrant = await grantThrough(w, 'carl', { entitlement: 'payments/read', justification: 'quarter close', duration: '7d' }, ['sam', 'olivia']);
      carls = [await recordSession(w, carlsGrant, ['SELECT 1'])];
      w.clock.advance(60_000);
      const glass = await startBreakGlass(await w.as('eve'), { entitlement: 'payments/admin', incident: 'INC-4711', reason: 'payments batch stuck' });
      w.clock.advance(60_000);
      eves = await recordSession(w, glass.grantId, ['UPDATE batches SET state = 1', 'SELECT 2']);
      carls.push(await recordSession(w, carlsGrant, ['SELECT 3'], { open: true }));
      app = await buildApp({ store: w.store, clock: w.clock, http: loadHttpConfig({}) });
    });
    after(async () => { await app?.close(); await w?.store.close(); });

    const get = async (url: string, handle: string) => {
      const token = (await createToken(await w.as(handle), { name: `${handle}-${url.length}-${Math.random()}`, scopes: ['read'] })).secret;
      const reply = await app.inject({ method: 'GET', url, headers: { authorization: `Bearer ${token}` } });
      assert.equal(reply.statusCode, 200, reply.body);
      return reply.json();
    };

    it('a grant\'s listing counts its sessions through the proxy', async () => {
      const [grant] = (await listGrants(await w.as('carl'), { entitlement: 'payments/read' })).filter((g) => g.id === carlsGrant);
      assert.equal(grant!.proxySessions, 2);
      const items = (await get('/v1/grants?status=live', 'eve')).items as { entitlement: string; proxySessions: number }[];
      assert.deepEqual(items.map((g) => [g.entitlement, g.proxySessions]), [['payments/admin', 1]]);
    });

    it('the break-glass reviewer sees the user\'s sessions during the window with their statement counts and verdicts, and nobody else\'s', async () => {
      const [review] = await listBreakGlassReviews(await w.as('olivia'), { status: 'pending' });
      assert.deepEqual(review!.evidence.proxySessions.map((s) => [s.id, s.person, s.statements, s.verified]), [[eves, 'eve', 2, true]]);
      const [overHttp] = (await get('/v1/breakglass/reviews?status=pending', 'olivia')).items as { evidence: { proxySessions: { id: string; verified: boolean }[] } }[];
      assert.deepEqual(overHttp!.evidence.proxySessions.map((s) => [s.id, s.verified]), [[eves, true]]);
    });

    it('the decision goes into the chain with the sessions the reviewer had before them and their verdicts', async () => {
      const [review] = await listBreakGlassReviews(await w.as('olivia'), { status: 'pending' });
      await reviewBreakGlass(await w.as('olivia'), { review: review!.id, outcome: 'appropriate', comment: 'the batch was stuck' });
      const [event] = await rawRows<{ canonical: string }>(w.store.db, sql`SELECT canonical FROM audit_events WHERE action = 'breakglass.reviewed'`);
      const after = (JSON.parse(event!.canonical) as { after: { sessions: { id: string; statements: number; verified: boolean }[] } }).after;
      assert.deepEqual(after.sessions.map((s) => [s.id, s.statements, s.verified]), [[eves, 2, true]]);
    });

    it('an evidence pack lists the sessions under its grants with the audited digest and the verdict, and their audit events', async () => {
      const pack = await buildEvidencePack(await w.as('audrey'), { subject: 'identity', ref: 'carl' });
      assert.deepEqual(pack.proxySessions.map((s) => [s.id, s.verified]), [[carls[0], true], [carls[1], null]]);
      assert.match(pack.proxySessions[0]!.recordingSha256!, /^[0-9a-f]{64}$/);
      assert.deepEqual(pack.sections.sessions!.map((e) => e.action), ['proxy_session.started', 'proxy_session.ended', 'proxy_session.started']);
      const overHttp = await get('/v1/evidence/system/payments', 'audrey') as { proxySessions: { id: string }[] };
      assert.deepEqual(overHttp.proxySessions.map((s) => s.id).sort(), [...carls, eves].sort());
    });
  });
}
