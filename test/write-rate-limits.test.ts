import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, it } from 'node:test';
import { eq } from 'drizzle-orm';
import type { FastifyInstance, InjectOptions } from 'fastify';
import { loadHttpConfig } from '../src/config.js';
import { buildApp } from '../src/http/app.js';
import { runHousekeeping } from '../src/jobs/housekeeping.js';
import { hashSecret, newSecret } from '../src/operations/lib/credentials/secrets.js';
import { apiTokens, sessions, writeRateLimits } from '../src/store/schema-service.js';
import { openPostgres } from '../src/store/database.js';
import { freshStore } from './support/backends.js';
import { createScratchDatabase } from './support/postgres-server.js';
import { startService, withService, type Service } from './support/service.js';
import { HOUR } from './support/world.js';

const limit = (max: number, more: NodeJS.ProcessEnv = {}) => ({ env: { TENURE_WRITES_PER_MINUTE: String(max), ...more } });

/** Runs `fn` on the PostgreSQL server: a budget shared across processes is a server database's matter. */
const withPostgresService = async (fn: (s: Service) => Promise<void>, options: Parameters<typeof startService>[1] = {}) => {
  const s = await startService(await freshStore('postgres', { poolSize: 10 }), options);
  try {
    await fn(s);
  } finally {
    await s.app.close();
    await s.world.store.close();
  }
};

const write = (app: FastifyInstance, token: string, name: string) =>
  app.inject({ method: 'POST', url: '/v1/tokens', headers: { authorization: `Bearer ${token}` }, payload: { name } });

const budgets = async (s: Service) => (await s.world.store.db.select().from(writeRateLimits)).map((row) => row.budget).sort();

describe('write rate limits counted in the database', () => {
  it('two app instances on one PostgreSQL database, each with its own pool, spend one budget, which a new minute renews', async () => {
    const scratch = await createScratchDatabase();
    const [first, second] = [await openPostgres(scratch.url), await openPostgres(scratch.url)];
    try {
      const s = await startService(first, limit(4));
      const other = await buildApp({ store: second, clock: s.world.clock, http: loadHttpConfig(limit(4).env) });
      try {
        const token = await s.token('eve');
        const statuses: number[] = [];
        for (let i = 0; i < 6; i += 1) statuses.push((await write(i % 2 === 0 ? s.app : other, token, `t${i}`)).statusCode);
        assert.deepEqual(statuses, [201, 201, 201, 201, 429, 429]);
        s.world.clock.advance(60_000);
        assert.equal((await write(other, token, 'next minute')).statusCode, 201);
      } finally {
        await other.close();
        await s.app.close();
      }
    } finally {
      await first.close();
      await second.close();
      await scratch.drop();
    }
  });

  it('many writes at once on PostgreSQL never get past the limit together', () => withPostgresService(async (s) => {
    const token = await s.token('eve');
    const answers = await Promise.all(Array.from({ length: 40 }, (_, i) => write(s.app, token, `burst ${i}`)));
    const passed = answers.filter((a) => a.statusCode !== 429);
    assert.equal(passed.length, 5, answers.map((a) => a.statusCode).join(','));
    assert.ok(passed.every((a) => a.statusCode === 201), passed.map((a) => a.body).join('\n'));
  }, limit(5)));

  it('a person\'s several tokens and web session share one budget, and another person has their own', () => withService(async (s) => {
    const [first, second] = [await s.token('eve'), await s.token('eve')];
    const session = newSecret('tns');
    await s.world.store.db.insert(sessions).values({ id: randomUUID(), identityId: await s.world.id('eve'), secretHash: hashSecret(session),
      createdAt: s.world.clock.now(), expiresAt: new Date(s.world.clock.now().getTime() + HOUR) });
    const bySession = () => s.app.inject({ method: 'POST', url: '/v1/tokens', payload: { name: 'by session' }, headers: { cookie: `tenure_session=${session}` } });
    const statuses = [
      (await write(s.app, first, 'a')).statusCode, (await write(s.app, second, 'b')).statusCode,
      (await bySession()).statusCode, (await write(s.app, first, 'c')).statusCode, (await bySession()).statusCode,
    ];
    assert.deepEqual(statuses, [201, 201, 201, 429, 429]);
    assert.equal((await write(s.app, await s.token('sam'), 'other person')).statusCode, 201);
    assert.deepEqual(await budgets(s), [`identity:${await s.world.id('eve')}`, `identity:${await s.world.id('sam')}`].sort());
  }, limit(3)));

  it('writes refused by validation spend the budget, and the 429 says when to retry', () => withService(async (s) => {
    const statuses: number[] = [];
    for (let i = 0; i < 3; i += 1) statuses.push((await s.call('POST', '/v1/tokens', { as: 'eve', body: { name: 'x', bogus: i } })).statusCode);
    assert.deepEqual(statuses, [400, 400, 400]);
    const limited = await s.call('POST', '/v1/tokens', { as: 'eve', body: { name: 'valid now' } });
    assert.equal(limited.statusCode, 429);
    assert.equal(limited.headers['content-type'], 'application/problem+json; charset=utf-8');
    assert.equal(limited.json().code, 'rate.limited');
    assert.equal(limited.headers['retry-after'], '60', 'the test clock stands at the start of a minute');
    assert.equal(limited.headers['x-ratelimit-limit'], '3');
    assert.equal(limited.headers['x-ratelimit-remaining'], '0');
  }, limit(3)));

  it('writes refused by authorisation (403) spend the budget of the identity, whichever token it used', () => withService(async (s) => {
    const readOnly = await s.token('eve', ['read']);
    assert.equal((await write(s.app, readOnly, 'no write scope')).json().code, 'auth.scope_missing');
    const denied = await s.call('POST', '/v1/identities', { as: 'eve', body: { handle: 'newbie', displayName: 'New', kind: 'employee' } });
    assert.equal(denied.statusCode, 403, denied.body);
    assert.equal((await s.call('POST', '/v1/tokens', { as: 'eve', body: { name: 'third' } })).statusCode, 429);
  }, limit(2)));

  it('reads are not limited, and a caller without valid credentials spends the budget of its address', () => withService(async (s) => {
    for (let i = 0; i < 3; i += 1) await s.call('POST', '/v1/tokens', { as: 'eve', body: { name: `t${i}` } });
    for (let i = 0; i < 5; i += 1) assert.equal((await s.call('GET', '/v1/me', { as: 'eve' })).statusCode, 200);
    const anonymous = (bearer: string) => s.app.inject({ method: 'POST', url: '/v1/tokens', headers: { authorization: `Bearer ${bearer}` }, payload: { name: 'x' } });
    assert.deepEqual([(await anonymous('guess-1')).statusCode, (await anonymous('guess-2')).statusCode, (await anonymous('guess-3')).statusCode], [401, 401, 429]);
    assert.ok((await budgets(s)).includes('address:127.0.0.1'));
  }, limit(2)));

  it('housekeeping keeps the current minute\'s counts and deletes those of minutes long past', () => withService(async (s) => {
    await s.call('POST', '/v1/tokens', { as: 'eve', body: { name: 'counted' } });
    assert.equal((await runHousekeeping(s.world.worker)).rateWindows, 0);
    s.world.clock.advance(3 * 60_000);
    assert.equal((await runHousekeeping(s.world.worker)).rateWindows, 1);
    assert.deepEqual(await budgets(s), []);
  }));

  it('a write that cannot be counted is refused, never let through uncounted', () => withService(async (s) => {
    const token = await s.token('eve');
    await s.world.store.db.execute('ALTER TABLE write_rate_limits RENAME TO write_rate_limits_gone');
    const answer = await write(s.app, token, 'uncounted');
    assert.equal(answer.statusCode, 500);
    assert.equal(answer.json().code, 'internal');
    assert.equal((await s.world.store.db.select().from(apiTokens).where(eq(apiTokens.name, 'uncounted'))).length, 0);
    assert.equal((await s.call('GET', '/v1/me', { as: 'eve' })).statusCode, 200, 'reads do not count, so they go on');
  }));
});

/** An app trusting 10.0.0.0/8, with one public route that shows what fastify made of the forwarding headers. */
const behindBalancer = async (s: Service) => {
  const app = await buildApp({ store: s.world.store, clock: s.world.clock, http: loadHttpConfig({ TENURE_TRUST_PROXY: '10.0.0.0/8, fd00::/8', TENURE_WRITES_PER_MINUTE: '2' }) });
  app.get('/test/peer', { config: { access: { public: true } } }, async (request) => ({ ip: request.ip, protocol: request.protocol }));
  return app;
};

const from = (remoteAddress: string, headers: Record<string, string>): InjectOptions => ({ remoteAddress, headers });

describe('behind a load balancer (TENURE_TRUST_PROXY)', () => {
  it('X-Forwarded-For and X-Forwarded-Proto are believed from a trusted peer and ignored from any other', () => withService(async (s) => {
    const app = await behindBalancer(s);
    try {
      const forwarded = { 'x-forwarded-for': '203.0.113.7', 'x-forwarded-proto': 'https' };
      const viaBalancer = await app.inject({ method: 'GET', url: '/test/peer', ...from('10.1.2.3', forwarded) });
      assert.deepEqual(viaBalancer.json(), { ip: '203.0.113.7', protocol: 'https' });
      const viaV6 = await app.inject({ method: 'GET', url: '/test/peer', ...from('fd00::5', forwarded) });
      assert.deepEqual(viaV6.json(), { ip: '203.0.113.7', protocol: 'https' });
      const direct = await app.inject({ method: 'GET', url: '/test/peer', ...from('198.51.100.9', forwarded) });
      assert.deepEqual(direct.json(), { ip: '198.51.100.9', protocol: 'http' });
      // A client's own X-Forwarded-For before the balancer's entry is not believed: only trusted hops are walked.
      const chained = await app.inject({ method: 'GET', url: '/test/peer', ...from('10.1.2.3', { 'x-forwarded-for': '192.0.2.1, 203.0.113.7' }) });
      assert.equal(chained.json().ip, '203.0.113.7');
    } finally {
      await app.close();
    }
  }));

  it('signed-out writes spend the forwarded client address\'s budget, and a spoofed X-Forwarded-For buys no fresh one', () => withService(async (s) => {
    const app = await behindBalancer(s);
    try {
      const anonymousWrite = (options: InjectOptions) => app.inject({ method: 'POST', url: '/v1/tokens', payload: { name: 'x' }, ...options });
      assert.equal((await anonymousWrite(from('10.1.2.3', { 'x-forwarded-for': '203.0.113.7' }))).statusCode, 401);
      const spoofed: number[] = [];
      for (let i = 1; i <= 3; i += 1) spoofed.push((await anonymousWrite(from('198.51.100.9', { 'x-forwarded-for': `203.0.113.${i + 100}` }))).statusCode);
      assert.deepEqual(spoofed, [401, 401, 429]);
      assert.deepEqual(await budgets(s), ['address:198.51.100.9', 'address:203.0.113.7']);
    } finally {
      await app.close();
    }
  }));

  it('without TENURE_TRUST_PROXY nobody is trusted, and an entry that is not an address or CIDR is refused by name', () => {
    assert.deepEqual(loadHttpConfig({}).trustProxy, []);
    assert.deepEqual(loadHttpConfig({ TENURE_TRUST_PROXY: ' 10.0.0.1, 10.0.0.0/8,fd00::/8 ,::1 ' }).trustProxy, ['10.0.0.1', '10.0.0.0/8', 'fd00::/8', '::1']);
    for (const bad of ['lb.internal', '10.0.0.0/33', '::1/129', '10.0.0.0/8/1', '10.0.0.0/', '300.1.1.1', 'loopback']) {
      assert.throws(() => loadHttpConfig({ TENURE_TRUST_PROXY: `10.0.0.1,${bad}` }),
        (error: Error) => error.message === `TENURE_TRUST_PROXY: '${bad}' is not an IP address or CIDR (e.g. 10.0.0.0/8, fd00::/8)`, bad);
    }
  });
});
