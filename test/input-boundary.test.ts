import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { BACKENDS, freshStore } from './support/backends.js';
import { databaseDigest } from './support/db-digest.js';
import { FORGED_CURSORS } from './support/openapi-arbitraries.js';
import { startService, type Service } from './support/service.js';

const NUL = 'a\u0000b';
const OUT_OF_RANGE = ['-infinity', 'infinity', '-200000-01-01T00:00:00Z', '+275760-09-13T00:00:00.000Z', '0000-12-31T23:59:59Z', '+010000-01-01T00:00:00Z'];
const LISTS = ['/v1/identities', '/v1/engagements', '/v1/requests', '/v1/grants', '/v1/provisioning/jobs', '/v1/findings'];

/** The cases of issue 14 ("each was a 500"): every one is now a 400 naming its field, and writes nothing. */
for (const backend of BACKENDS) {
  describe(`values that never reach the database unchecked, on ${backend}`, () => {
    let s: Service;
    let grantId: string;
    before(async () => {
      s = await startService(await freshStore(backend), { env: { TENURE_WRITES_PER_MINUTE: '100000' } });
      const created = await s.call('POST', '/v1/breakglass', { as: 'ivan', body: { entitlement: 'payments/read', incident: 'INC-1', reason: 'outage' } });
      grantId = created.statusCode === 201 ? (created.json() as { grantId: string }).grantId : randomUUID();
      await s.call('GET', '/v1/me', { as: 'ada' });
    });
    after(async () => { await s.app.close(); await s.world.store.close(); });

    const refused = async (method: 'GET' | 'POST', url: string, field: string, body?: unknown, rule?: RegExp) => {
      const digest = await databaseDigest(s.world.store);
      const res = await s.call(method, url, { as: 'ada', ...(body === undefined ? {} : { body }) });
      assert.equal(res.statusCode, 400, `${method} ${url}: ${res.body}`);
      assert.match(String(res.headers['content-type']), /^application\/problem\+json/);
      const problem = res.json() as { code: string; field: string; detail: string };
      assert.equal(problem.code, 'input.invalid', res.body);
      assert.equal(problem.field, field, res.body);
      if (rule) assert.match(problem.detail, rule);
      assert.deepEqual(await databaseDigest(s.world.store), digest, `${method} ${url} wrote to the database`);
    };

    for (const entitlement of ['xyz', 'payments', 'pay ments', '%', 'a/b/c']) {
      it(`an entitlement given as '${entitlement}' (not system/entitlement, not an id) is refused by field on requests and break-glass`, async () => {
        await refused('POST', '/v1/requests', 'entitlement', { entitlement, justification: 'x', duration: '1h' }, /system\/entitlement/);
        await refused('POST', '/v1/breakglass', 'entitlement', { entitlement, incident: 'INC-1', reason: 'x' }, /system\/entitlement/);
      });
    }

    it('an empty duration is refused wherever a duration is accepted', async () => {
      await refused('POST', '/v1/tokens', 'expiresIn', { name: 'x', scopes: ['read'], expiresIn: '' });
      await refused('POST', '/v1/requests', 'duration', { entitlement: 'payments/read', justification: 'x', duration: '' });
      await refused('POST', '/v1/reviews/campaigns', 'dueIn', { scope: 'all', reviewer: 'sponsor', dueIn: '' });
      await refused('POST', '/v1/breakglass', 'ttl', { entitlement: 'payments/read', incident: 'INC-1', reason: 'x', ttl: '' });
    });

    it('a bare number is not a duration, as text or as JSON: the message says it has no unit', async () => {
      await refused('POST', '/v1/requests', 'duration', { entitlement: 'payments/read', justification: 'x', duration: '90' }, /no unit/);
      await refused('POST', '/v1/requests', 'duration', { entitlement: 'payments/read', justification: 'x', duration: 90 }, /no unit/);
      await refused('POST', '/v1/tokens', 'expiresIn', { name: 'x', scopes: ['read'], expiresIn: '3600' }, /no unit/);
    });

    it('negative, not-a-number and absurdly long durations are refused', async () => {
      for (const duration of ['-5m', 'NaN', '1e400d', '4000d', '0s']) {
        await refused('POST', '/v1/requests', 'duration', { entitlement: 'payments/read', justification: 'x', duration }, /positive duration with a unit/);
      }
    });

    it('a NUL character is refused in every text field named in the issue', async () => {
      await refused('POST', '/v1/requests', 'justification', { entitlement: 'payments/read', justification: NUL, duration: '1h' });
      await refused('POST', '/v1/requests', 'ticket', { entitlement: 'payments/read', justification: 'x', ticket: NUL, duration: '1h' });
      await refused('POST', '/v1/identities', 'displayName', { handle: 'nul-test', displayName: NUL, kind: 'employee' });
      await refused('POST', '/v1/vendors', 'name', { name: NUL, kind: 'system_integrator', relationshipOwner: 'sam', contractEnd: '2031-01-01T00:00:00Z' });
      await refused('POST', `/v1/grants/${grantId}/revoke`, 'reason', { reason: NUL });
      await refused('GET', '/v1/identities/a%00b', 'identity');
      await refused('GET', '/v1/grants?identity=a%00b', 'identity');
      await refused('GET', '/v1/audit/events?identity=a%00b', 'identity');
    });

    it('other control characters and lone surrogates are refused; prose keeps its line breaks', async () => {
      await refused('POST', '/v1/identities', 'displayName', { handle: 'bell-test', displayName: 'ding\u0007', kind: 'employee' });
      await refused('POST', '/v1/identities', 'displayName', { handle: 'surrogate-test', displayName: 'half \ud800', kind: 'employee' });
      await refused('POST', '/v1/identities', 'displayName', { handle: 'newline-test', displayName: 'two\nlines', kind: 'employee' });
      const prose = await s.call('POST', '/v1/requests', { as: 'carl', body: { entitlement: 'payments/read', justification: 'first line\n\tsecond line', duration: '1h' } });
      assert.equal(prose.statusCode, 201, prose.body);
    });

    for (const list of LISTS) {
      it(`a forged cursor on ${list} is refused by field, never a 500`, async () => {
        for (const cursor of FORGED_CURSORS.filter(Boolean)) await refused('GET', `${list}?cursor=${encodeURIComponent(cursor)}`, 'cursor');
      });
    }

    it('a forged audit cursor, too large for a sequence number, is refused by field', async () => {
      await refused('GET', '/v1/audit/events?cursor=99999999999999999999999', 'cursor');
      await refused('GET', '/v1/audit/events?cursor=-1', 'cursor');
    });

    for (const date of OUT_OF_RANGE) {
      it(`the date ${date} is outside years 1 to 9999 and refused by field in contractEnd, expiresAt and audit from`, async () => {
        await refused('POST', '/v1/vendors', 'contractEnd', { name: `Vendor ${date}`, kind: 'system_integrator', relationshipOwner: 'sam', contractEnd: date });
        await refused('POST', '/v1/credentials', 'expiresAt', { identity: 'bot', kind: 'api_key', name: 'key', fingerprint: `sha256:${'a'.repeat(64)}`, expiresAt: date });
        await refused('GET', `/v1/audit/events?from=${encodeURIComponent(date)}`, 'from');
      });
    }

    it('a valid cursor still pages, and dates at the edges of the range are accepted', async () => {
      const first = (await s.call('GET', '/v1/identities?limit=2', { as: 'ada' })).json() as { nextCursor: string };
      const next = await s.call('GET', `/v1/identities?limit=2&cursor=${first.nextCursor}`, { as: 'ada' });
      assert.equal(next.statusCode, 200, next.body);
      const early = await s.call('GET', `/v1/audit/events?from=${encodeURIComponent('0001-01-01T00:00:00Z')}&limit=1`, { as: 'ada' });
      assert.equal(early.statusCode, 200, early.body);
    });
  });
}
