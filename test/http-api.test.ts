import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { count, eq } from 'drizzle-orm';
import { IDEMPOTENCY_RETENTION_MS, runHousekeeping } from '../src/jobs/housekeeping.js';
import { hashSecret, newSecret } from '../src/operations/lib/credentials/secrets.js';
import { apiTokens, sessions } from '../src/store/schema-service.js';
import { accessRequests, auditEvents } from '../src/store/schema.js';
import { BACKENDS, freshStore } from './support/backends.js';
import { HOUR } from './support/world.js';
import { startService, withService, type Service } from './support/service.js';

const auditCount = async (s: Service) => Number((await s.world.store.db.select({ n: count() }).from(auditEvents))[0]!.n);

for (const backend of BACKENDS) {
  describe(`the API on ${backend}`, () => {
    let s: Service;
    before(async () => { s = await startService(await freshStore(backend), { env: { TENURE_BODY_LIMIT_BYTES: '4096' } }); });
    after(async () => { await s.app.close(); await s.world.store.close(); });

    const BAD_INPUT = [
      { story: 'malformed JSON', payload: '{"entitlement": ', code: 'input.malformed', status: 400 },
      { story: 'a field of the wrong type', payload: { entitlement: 42, justification: 'x' }, code: 'input.invalid', status: 400, field: 'entitlement' },
      { story: 'an unknown field', payload: { entitlement: 'crm/read', justification: 'x', admin: true }, code: 'input.invalid', status: 400, field: 'admin' },
      { story: 'a date that is not a date', payload: { entitlement: 'crm/read', justification: 'x', endsAt: '31/02/2030' }, code: 'input.invalid', status: 400, field: 'endsAt' },
      { story: 'a missing required field', payload: { entitlement: 'crm/read' }, code: 'input.invalid', status: 400, field: 'justification' },
      { story: 'an oversized body', payload: { entitlement: 'crm/read', justification: 'x'.repeat(5000) }, code: 'input.too_large', status: 413 },
      { story: 'an unknown entitlement', payload: { entitlement: 'crm/nothing', justification: 'x', duration: '1h' }, code: 'entitlement.not_found', status: 404 },
    ];
    for (const c of BAD_INPUT) {
      it(`${c.story} is a ${c.status} problem naming the code${c.field ? ' and the field' : ''}, and writes nothing`, async () => {
        await s.call('GET', '/v1/me', { as: 'carl' }); // the helper's first call as carl creates (and audits) his token
        const before = await auditCount(s);
        const res = await s.call('POST', '/v1/requests', { as: 'carl', body: c.payload, headers: { 'content-type': 'application/json' } });
        assert.equal(res.statusCode, c.status, res.body);
        assert.match(String(res.headers['content-type']), /^application\/problem\+json/);
        const problem = res.json();
        assert.equal(problem.code, c.code);
        assert.equal(problem.status, c.status);
        assert.ok(problem.title && problem.detail && problem.type);
        if (c.field) assert.equal(problem.field, c.field);
        assert.equal(await auditCount(s), before);
      });
    }

    it('a body that is not JSON is refused as an unsupported media type', async () => {
      const res = await s.app.inject({ method: 'POST', url: '/v1/requests', payload: 'entitlement=crm/read',
        headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Bearer ${await s.token('carl')}` } });
      assert.equal(res.statusCode, 415);
      assert.equal(res.json().code, 'input.unsupported_media_type');
    });

    it('an unknown id is a 404 problem, and an id of the wrong shape names its field', async () => {
      const missing = await s.call('GET', `/v1/requests/${randomUUID()}`, { as: 'ivan' });
      assert.equal(missing.statusCode, 404);
      assert.equal(missing.json().code, 'request.not_found');
      const bad = await s.call('POST', '/v1/grants/not-an-id/revoke', { as: 'ivan', body: { reason: 'x' } });
      assert.equal(bad.statusCode, 400);
      assert.equal(bad.json().field, 'grant');
    });

    it('answers carry secure headers', async () => {
      const res = await s.call('GET', '/v1/me', { as: 'carl' });
      assert.equal(res.headers['x-content-type-options'], 'nosniff');
      assert.ok(res.headers['content-security-policy']);
      assert.ok(res.headers['strict-transport-security']);
      assert.equal(res.headers['x-frame-options'], 'SAMEORIGIN');
    });

    it('lists are pages: following nextCursor visits every identity exactly once, in order', async () => {
      const seen: string[] = [];
      let url = '/v1/identities?limit=3';
      for (let pages = 0; pages < 20; pages += 1) {
        const res = await s.call('GET', url, { as: 'audrey' });
        assert.equal(res.statusCode, 200, res.body);
        const { items, nextCursor } = res.json() as { items: { handle: string }[]; nextCursor: string | null };
        assert.ok(items.length <= 3);
        seen.push(...items.map((i) => i.handle));
        if (!nextCursor) break;
        url = `/v1/identities?limit=3&cursor=${encodeURIComponent(nextCursor)}`;
      }
      assert.deepEqual(seen, [...seen].sort());
      assert.equal(new Set(seen).size, seen.length);
      assert.ok(seen.includes('carl') && seen.includes('vera') && seen.length >= 11);
      const filtered = await s.call('GET', '/v1/identities?kind=contractor', { as: 'audrey' });
      assert.deepEqual(filtered.json().items.map((i: { handle: string }) => i.handle), ['carl']);
      const junk = await s.call('GET', '/v1/identities?cursor=garbage', { as: 'audrey' });
      assert.equal(junk.json().field, 'cursor');
    });

    it('a write retried with the same Idempotency-Key returns the first answer and writes once', async () => {
      const body = { entitlement: 'payments/read', justification: 'quarterly report', duration: '2h' };
      const headers = { 'idempotency-key': 'report-q3-1' };
      const first = await s.call('POST', '/v1/requests', { as: 'carl', body, headers });
      const again = await s.call('POST', '/v1/requests', { as: 'carl', body, headers });
      assert.equal(first.statusCode, 201, first.body);
      assert.equal(again.statusCode, 201);
      assert.equal(again.json().id, first.json().id);
      assert.equal(again.headers['idempotent-replayed'], 'true');
      const carl = await s.world.id('carl');
      const rows = await s.world.store.db.select().from(accessRequests).where(eq(accessRequests.beneficiaryId, carl));
      assert.equal(rows.filter((r) => r.justification === 'quarterly report').length, 1);
      const other = await s.call('POST', '/v1/requests', { as: 'carl', body: { ...body, justification: 'something else' }, headers });
      assert.equal(other.statusCode, 422);
      assert.equal(other.json().code, 'idempotency.key_reused');
    });

    it('a token is stored only as a hash, and every use is attributed to its owner and the token in the audit log', async () => {
      const created = await s.call('POST', '/v1/tokens', { as: 'sam', body: { name: 'laptop', scopes: ['read', 'write'], expiresIn: '1d' } });
      assert.equal(created.statusCode, 201, created.body);
      const { id, secret } = created.json() as { id: string; secret: string };
      assert.match(secret, /^tnr_[A-Za-z0-9_-]{43}$/);
      const [row] = await s.world.store.db.select().from(apiTokens).where(eq(apiTokens.id, id));
      assert.ok(row && !JSON.stringify(row).includes(secret));
      const listed = await s.call('GET', '/v1/tokens', { as: 'sam' });
      assert.ok(!listed.body.includes(secret) && listed.body.includes(id));
      const filed = await s.app.inject({ method: 'POST', url: '/v1/requests', headers: { authorization: `Bearer ${secret}` },
        payload: { beneficiary: 'carl', entitlement: 'payments/initiate', justification: 'batch run', duration: '2h' } });
      assert.equal(filed.statusCode, 201, filed.body);
      const [event] = await s.world.store.db.select().from(auditEvents).where(eq(auditEvents.subjectId, filed.json().id));
      const actor = JSON.parse(event!.canonical).actor;
      assert.equal(actor.id, await s.world.id('sam'));
      assert.equal(actor.channel, 'api');
      assert.equal(actor.tokenId, id);
    });

    it('an expired, a revoked or a made-up token is refused at once with the same answer', async () => {
      const created = await s.call('POST', '/v1/tokens', { as: 'eve', body: { name: 'short', expiresIn: '1h' } });
      const { id, secret } = created.json() as { id: string; secret: string };
      const me = (token: string) => s.app.inject({ method: 'GET', url: '/v1/me', headers: { authorization: `Bearer ${token}` } });
      assert.equal((await me(secret)).statusCode, 200);
      s.world.clock.advance(HOUR + 1);
      assert.equal((await me(secret)).json().code, 'auth.invalid_credentials');
      const second = (await s.call('POST', '/v1/tokens', { as: 'eve', body: { name: 'second' } })).json() as { id: string; secret: string };
      assert.equal((await s.call('DELETE', `/v1/tokens/${second.id}`, { as: 'eve' })).statusCode, 200);
      assert.equal((await me(second.secret)).json().code, 'auth.invalid_credentials');
      assert.equal((await me(`tnr_${'A'.repeat(43)}`)).json().code, 'auth.invalid_credentials');
      assert.equal((await me('not a token')).statusCode, 401);
      assert.equal((await s.call('DELETE', `/v1/tokens/${id}`, { as: 'carl' })).statusCode, 404);
    });

    it('a token lives at most a year; a person\'s is made only by that person, a service account\'s by its owner or IAM', async () => {
      const long = await s.call('POST', '/v1/tokens', { as: 'eve', body: { name: 'forever', expiresIn: '400d' } });
      assert.equal(long.json().code, 'token.invalid_expiry');
      const forOther = await s.call('POST', '/v1/tokens', { as: 'eve', body: { name: 'not mine', identity: 'carl' } });
      assert.equal(forOther.json().code, 'token.person_only_self');
      const forBot = await s.call('POST', '/v1/tokens', { as: 'tom', body: { name: 'bot key', identity: 'bot', scopes: ['check'] } });
      assert.equal(forBot.statusCode, 201, forBot.body);
      assert.equal(forBot.json().identity, 'bot');
    });
  });
}

describe('limits', () => {
  it('writes beyond the per-token rate are refused with 429 while reads go on', () => withService(async (s) => {
    const statuses: number[] = [];
    for (let i = 0; i < 4; i += 1) statuses.push((await s.call('POST', '/v1/tokens', { as: 'eve', body: { name: `t${i}` } })).statusCode);
    assert.deepEqual(statuses, [201, 201, 201, 429]);
    const limited = await s.call('POST', '/v1/tokens', { as: 'eve', body: { name: 'again' } });
    assert.equal(limited.json().code, 'rate.limited');
    assert.equal((await s.call('GET', '/v1/me', { as: 'eve' })).statusCode, 200);
    assert.equal((await s.call('POST', '/v1/tokens', { as: 'sam', body: { name: 'other token' } })).statusCode, 201);
  }, { env: { TENURE_WRITES_PER_MINUTE: '3' } }));
});

describe('housekeeping', () => {
  it('an Idempotency-Key is forgotten after a day, so the same key then starts a new request', () => withService(async (s) => {
    const headers = { 'idempotency-key': 'daily-1' };
    const first = await s.call('POST', '/v1/tokens', { as: 'eve', body: { name: 'daily' }, headers });
    s.world.clock.advance(IDEMPOTENCY_RETENTION_MS + 1);
    assert.deepEqual(await runHousekeeping(s.world.worker), { idempotencyKeys: 1, signIns: 0, rateWindows: 1, webhookSecrets: 0 });
    const next = await s.call('POST', '/v1/tokens', { as: 'eve', body: { name: 'daily' }, headers });
    assert.equal(next.statusCode, 201);
    assert.notEqual(next.json().id, first.json().id);
  }));
});

describe('browser sessions and other sites', () => {
  it('a write with a session cookie from another site is refused, and a text/plain body never reaches a route', () => withService(async (s) => {
    const secret = newSecret('tns');
    await s.world.store.db.insert(sessions).values({ id: randomUUID(), identityId: await s.world.id('eve'), secretHash: hashSecret(secret),
      createdAt: s.world.clock.now(), expiresAt: new Date(s.world.clock.now().getTime() + HOUR) });
    const write = (origin: string) => s.app.inject({ method: 'POST', url: '/v1/tokens', payload: { name: `from ${origin}` },
      headers: { cookie: `tenure_session=${secret}`, origin } });
    const evil = await write('https://evil.example');
    assert.equal(evil.statusCode, 403);
    assert.equal(evil.json().code, 'auth.cross_site_refused');
    assert.equal((await write('http://localhost:8080')).statusCode, 201);
    const plain = await s.app.inject({ method: 'POST', url: '/v1/tokens', payload: 'name=x',
      headers: { cookie: `tenure_session=${secret}`, 'content-type': 'text/plain' } });
    assert.equal(plain.statusCode, 415);
  }));
});
