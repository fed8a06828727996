import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { loadHttpConfig } from '../src/config.js';
import { DecisionService } from '../src/decision/service.js';
import { buildApp } from '../src/http/app.js';
import { checkRoutes } from '../src/http/routes/check.js';
import { ROUTES } from '../src/http/routes/index.js';
import { createToken } from '../src/operations/create-token.js';
import { BACKENDS, freshStore } from './support/backends.js';
import { grantThrough } from './support/flows.js';
import { applyPolicyText } from './support/provisioning-world.js';
import { buildWorld, DAY, LIFECYCLE_POLICY, type World } from './support/world.js';

/** The HTTP layer is the same on both backends; one is enough here. */
describe('POST /v1/check', () => {
  let w: World;
  let app: FastifyInstance;
  let decisions: DecisionService;
  let grantId: string;
  const tokens = new Map<string, string>();

  before(async () => {
    w = await buildWorld(await freshStore(BACKENDS[0] ?? 'embedded'));
    grantId = await grantThrough(w, 'carl', { entitlement: 'payments/read', justification: 'report', duration: '2d' }, ['sam', 'olivia']);
    decisions = await DecisionService.start({ store: w.store, clock: w.clock, poll: false });
    const deps = { store: w.store, clock: w.clock, http: loadHttpConfig({}), decision: decisions };
    app = await buildApp(deps);
    if (!ROUTES.includes(checkRoutes)) await checkRoutes(app, deps);
    const issue = async (handle: string, scopes: ('read' | 'write' | 'check')[]) =>
      tokens.set(handle, (await createToken(await w.as(handle), { name: `test-${handle}`, scopes })).secret);
    await issue('ada', ['check']);
    await issue('ivan', ['write']);
    await issue('carl', ['check']);
  });
  after(async () => { await app.close(); await decisions.stop(); await w.store.close(); });

  const call = (url: string, as: string, body: unknown) =>
    app.inject({ method: 'POST', url, headers: { authorization: `Bearer ${tokens.get(as)!}` }, payload: body as object });

  it('an MFA time is read as a date-time and measured against mfa_max_age; anything else is refused naming context.mfaAt', async () => {
    const lifecycle = await readFile(LIFECYCLE_POLICY, 'utf8');
    const read = 'read: { name: Read-only reporting, tier: read, actions: [select] }';
    assert.ok(lifecycle.includes(read), 'the lifecycle policy\'s payments/read is where the condition goes');
    await applyPolicyText(w, lifecycle.replace(read, 'read: { name: Read-only reporting, tier: read, actions: [select], conditions: { mfa_max_age: 1h } }'));
    await decisions.sync();
    const ago = (minutes: number) => new Date(w.clock.now().getTime() - minutes * 60_000).toISOString();
    const reason = async (context: Record<string, unknown>) =>
      (await call('/v1/check', 'ada', { identity: 'carl', entitlement: 'payments/read', context })).json().reason as string;
    assert.equal(await reason({ mfa: true, mfaAt: ago(30) }), 'grant_active');
    assert.equal(await reason({ mfa: true, mfaAt: ago(61) }), 'condition_mfa_too_old');
    assert.equal(await reason({ mfa: true }), 'condition_mfa_too_old');
    for (const mfaAt of ['yesterday', 1_700_000_000, '2030-01-01T09:00:00']) {
      const response = await call('/v1/check', 'ada', { identity: 'carl', entitlement: 'payments/read', context: { mfa: true, mfaAt } });
      assert.equal(response.statusCode, 400, `${String(mfaAt)}: ${response.body}`);
      assert.match(response.body, /context\.mfaAt/);
    }
    await applyPolicyText(w, lifecycle);
    await decisions.sync();
  });

  it('answers allow with the grant and its end, as JSON dates', async () => {
    const response = await call('/v1/check', 'ada', { identity: 'carl', entitlement: 'payments/read', context: { mfa: true, sourceAddress: '10.0.0.1' } });
    assert.equal(response.statusCode, 200, response.body);
    assert.deepEqual(response.json(), {
      decision: 'allow', reason: 'grant_active', entitlement: 'payments/read', warnings: [],
      grant: { id: grantId, endsAt: new Date(w.clock.now().getTime() + 2 * DAY).toISOString() }, evaluatedAt: w.clock.now().toISOString(),
    });
  });

  it('an unknown identity is a deny with its reason, not a 404', async () => {
    const response = await call('/v1/check', 'ada', { identity: 'nobody', system: 'payments', action: 'select' });
    assert.equal(response.statusCode, 200);
    assert.deepEqual([response.json().decision, response.json().reason, response.json().grant], ['deny', 'unknown_identity', null]);
  });

  it('a revocation made over the API is seen by the very next check', async () => {
    const revoked = await app.inject({ method: 'POST', url: `/v1/grants/${grantId}/revoke`,
      headers: { authorization: `Bearer ${tokens.get('ivan')!}` }, payload: { reason: 'done' } });
    assert.equal(revoked.statusCode, 200, revoked.body);
    const response = await call('/v1/check', 'ada', { identity: 'carl', entitlement: 'payments/read' });
    assert.equal(response.json().reason, 'grant_ended');
  });

  it('a body naming both an entitlement and an action is refused, naming the field', async () => {
    const response = await call('/v1/check', 'ada', { identity: 'carl', entitlement: 'payments/read', system: 'payments', action: 'select' });
    assert.equal(response.statusCode, 400, response.body);
    assert.equal(response.json().code, 'input.invalid');
    assert.match(response.body, /entitlement/);
  });

  it('a source address that is not an IP address is refused', async () => {
    const response = await call('/v1/check', 'ada', { identity: 'carl', entitlement: 'payments/read', context: { sourceAddress: 'example.com' } });
    assert.equal(response.statusCode, 400, response.body);
    assert.match(response.body, /sourceAddress/);
  });

  it('only holders of access.check_any may ask about others', async () => {
    const response = await call('/v1/check', 'carl', { identity: 'carl', entitlement: 'payments/read' });
    assert.equal(response.statusCode, 403, response.body);
  });

  it('a token without the check scope is refused', async () => {
    const response = await call('/v1/check', 'ivan', { identity: 'carl', entitlement: 'payments/read' });
    assert.equal(response.statusCode, 403, response.body);
    assert.equal(response.json().code, 'auth.scope_missing');
  });

  it('a checker whose token is revoked, or who is suspended, is refused on the next check although its token was remembered', async () => {
    const selma = await createToken(await w.as('selma'), { name: 'gate', scopes: ['check'] });
    const ask = () => app.inject({ method: 'POST', url: '/v1/check', headers: { authorization: `Bearer ${selma.secret}` },
      payload: { identity: 'carl', entitlement: 'payments/read' } });
    assert.equal((await ask()).statusCode, 200);
    assert.equal((await ask()).statusCode, 200);
    const revoked = await app.inject({ method: 'DELETE', url: `/v1/tokens/${selma.id}`, headers: { authorization: `Bearer ${tokens.get('ivan')!}` } });
    assert.equal(revoked.statusCode, 200, revoked.body);
    assert.equal((await ask()).json().code, 'auth.invalid_credentials');
    const again = await createToken(await w.as('selma'), { name: 'gate-2', scopes: ['check'] });
    const askAgain = () => app.inject({ method: 'POST', url: '/v1/check', headers: { authorization: `Bearer ${again.secret}` },
      payload: { identity: 'carl', entitlement: 'payments/read' } });
    assert.equal((await askAgain()).statusCode, 200);
    const suspended = await app.inject({ method: 'POST', url: '/v1/identities/selma/status', headers: { authorization: `Bearer ${tokens.get('ivan')!}` },
      payload: { status: 'suspended', reason: 'left the company' } });
    assert.equal(suspended.statusCode, 200, suspended.body);
    assert.equal((await askAgain()).statusCode, 401);
  });

  it('/readyz fails while the index is stale, privileged checks are denied, and both recover after a refresh', async () => {
    assert.equal((await app.inject({ method: 'GET', url: '/readyz' })).statusCode, 200);
    w.clock.advance(60_000);
    const stale = await app.inject({ method: 'GET', url: '/readyz' });
    assert.equal(stale.statusCode, 503);
    assert.equal(stale.json().code, 'service.not_ready');
    const privileged = await call('/v1/check', 'ada', { identity: 'carl', entitlement: 'payments/admin', context: { mfa: true, trustedDevice: true } });
    assert.equal(privileged.json().reason, 'index_stale');
    await decisions.sync();
    assert.equal((await app.inject({ method: 'GET', url: '/readyz' })).statusCode, 200);
  });
});
