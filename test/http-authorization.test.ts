import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import Fastify from 'fastify';
import { eq } from 'drizzle-orm';
import { requireDeclaredAccess, UndeclaredAccessError } from '../src/http/access.js';
import { allows } from '../src/domain/permissions.js';
import { loadActor } from '../src/operations/authorize.js';
import { accessRequests, requestStages } from '../src/store/schema.js';
import { freshStore } from './support/backends.js';
import { startService, withService, type Service } from './support/service.js';

/** Everyone the matrix tries, with what they are: an administrator, each Tenure role, and people with none. */
const PERSONAS = ['ada', 'selma', 'ivan', 'audrey', 'sam', 'eve', 'carl', 'bot'];

const fillPath = (url: string) => url.replace(/:identity\b/, 'carl').replace(/:[a-z]+/g, () => randomUUID());

describe('who may call what over the API', () => {
  let s: Service;
  before(async () => { s = await startService(await freshStore('embedded')); });
  after(async () => { await s.app.close(); await s.world.store.close(); });

  it('a route that does not declare who may call it is refused at start-up', () => {
    const app = Fastify();
    requireDeclaredAccess(app);
    assert.throws(() => app.get('/v1/forgotten', async () => 'open'), UndeclaredAccessError);
  });

  it('every route declares its access, and only health, readiness, the API document and the console\'s files are public', () => {
    const publicRoutes = s.app.routeCatalogue.filter((r) => 'public' in r.access).map((r) => r.url).sort();
    // '/*' is the web console's files and page fallback (src/http/web.ts), deliberately public: they
    // hold no data, and everything the console shows comes through the API routes this test checks.
    // It never answers under /v1, /auth, /docs, /openapi.json, /healthz or /readyz.
    assert.deepEqual(publicRoutes.filter((u) => !u.startsWith('/auth/')), ['/*', '/healthz', '/openapi.json', '/readyz']);
    assert.ok(s.app.routeCatalogue.length > 20);
  });

  it('without credentials every non-public route answers 401 with a problem', async () => {
    for (const route of s.app.routeCatalogue.filter((r) => !('public' in r.access))) {
      const res = await s.call(route.method as 'GET', fillPath(route.url), { as: null, body: route.method === 'GET' ? undefined : {} });
      assert.equal(res.statusCode, 401, `${route.method} ${route.url}`);
      assert.match(String(res.headers['content-type']), /application\/problem\+json/);
    }
  });

  it('a token without the scope a route needs is refused, whatever its owner may do', async () => {
    const readOnly = await s.token('ada', ['read']);
    const checkOnly = await s.token('ada', ['check']);
    for (const route of s.app.routeCatalogue.filter((r) => !('public' in r.access))) {
      if ('public' in route.access) continue;
      const secret = route.access.scope === 'read' ? checkOnly : readOnly;
      if (route.access.scope === 'check') continue;
      const res = await s.app.inject({ method: route.method as 'GET', url: fillPath(route.url), headers: { authorization: `Bearer ${secret}` },
        ...(route.method === 'GET' ? {} : { payload: {} }) });
      assert.equal(res.statusCode, 403, `${route.method} ${route.url}`);
      assert.equal(res.json().code, 'auth.scope_missing');
    }
  });

  it('every role-restricted route admits exactly the roles its permission names, and nothing answers 500', async () => {
    for (const handle of PERSONAS) {
      const { roles } = await loadActor(s.world.store.db, await s.world.id(handle));
      for (const route of s.app.routeCatalogue) {
        const res = await s.call(route.method as 'GET', fillPath(route.url), { as: handle, body: route.method === 'GET' ? undefined : {} });
        const label = `${handle} ${route.method} ${route.url} → ${res.statusCode} ${res.body.slice(0, 120)}`;
        assert.ok(res.statusCode < 500 || route.url === '/readyz', label);
        if ('public' in route.access || route.access.permission === 'self') continue;
        const forbidden = res.statusCode === 403 && res.json().code === 'actor.forbidden';
        assert.equal(forbidden, !allows(roles, route.access.permission), label);
      }
    }
  });
});

describe('no path lets anyone approve their own request or one for themselves', () => {
  let s: Service;
  before(async () => { s = await startService(await freshStore('embedded')); });
  after(async () => { await s.app.close(); await s.world.store.close(); });

  /** Every way to approve over the API: one at a time, with an expected stage, in bulk, and replayed with an Idempotency-Key. */
  const attempts = (id: string) => [
    { url: `/v1/requests/${id}/approve`, body: {} },
    { url: `/v1/requests/${id}/approve`, body: { stage: 0 } },
    { url: `/v1/requests/${id}/approve`, body: {}, headers: { 'idempotency-key': `again-${id}` } },
    { url: '/v1/requests/approvals', body: { requests: [id] } },
  ];

  const CASES = [
    { story: 'a contractor asks for payments access for himself', requester: 'carl', beneficiary: 'carl', entitlement: 'payments/read' },
    { story: 'a sponsor files a request on behalf of his contractor', requester: 'sam', beneficiary: 'carl', entitlement: 'payments/approve' },
    { story: 'IAM files a request on behalf of an employee', requester: 'ivan', beneficiary: 'eve', entitlement: 'crm/read' },
    { story: 'the administrator asks for privileged access for herself', requester: 'ada', beneficiary: 'ada', entitlement: 'payments/admin' },
    { story: 'a manager files on behalf of his report', requester: 'sam', beneficiary: 'eve', entitlement: 'payments/read' },
  ];

  for (const c of CASES) {
    it(`${c.story}: neither the requester nor the beneficiary can approve any stage`, async () => {
      const created = await s.call('POST', '/v1/requests', { as: c.requester, body: {
        beneficiary: c.beneficiary, entitlement: c.entitlement, justification: c.story, duration: '2h' } });
      assert.equal(created.statusCode, 201, created.body);
      const id = created.json().id as string;
      for (const person of new Set([c.requester, c.beneficiary])) {
        for (const attempt of attempts(id)) {
          const res = await s.call('POST', attempt.url, { as: person, body: attempt.body, ...(attempt.headers ? { headers: attempt.headers } : {}) });
          const code = attempt.url.endsWith('approvals') ? res.json().results[0].problem?.code : res.json().code;
          assert.ok(['request.self_approval_forbidden', 'request.beneficiary_approval_forbidden'].includes(code), `${person} ${attempt.url}: ${res.body}`);
        }
      }
      const [request] = await s.world.store.db.select().from(accessRequests).where(eq(accessRequests.id, id));
      assert.equal(request!.status, 'pending');
      const stages = await s.world.store.db.select().from(requestStages).where(eq(requestStages.requestId, id));
      assert.ok(stages.every((stage) => stage.status === 'pending' && stage.decidedBy === null));
    });
  }

  it('a stranger probing a request id learns nothing: 404, as for an id that does not exist', async () => {
    const created = await s.call('POST', '/v1/requests', { as: 'carl', body: { entitlement: 'crm/read', justification: 'probe', duration: '2h' } });
    assert.equal(created.statusCode, 201, created.body);
    const id = created.json().id as string;
    const seen = await s.call('GET', `/v1/requests/${id}`, { as: 'eve' });
    const missing = await s.call('GET', `/v1/requests/${randomUUID()}`, { as: 'eve' });
    assert.equal(seen.statusCode, 404);
    assert.equal(seen.json().code, missing.json().code);
    const approve = await s.call('POST', `/v1/requests/${id}/approve`, { as: 'eve', body: {} });
    const approveMissing = await s.call('POST', `/v1/requests/${randomUUID()}/approve`, { as: 'eve', body: {} });
    assert.equal(approve.statusCode, approveMissing.statusCode, approve.body);
  });
});

describe('the OpenAPI document', () => {
  it('describes every API route with its parameters, its success response and its problems', () => withService(async (s) => {
    const doc = (await s.call('GET', '/openapi.json')).json() as { openapi: string; paths: Record<string, Record<string, {
      responses: Record<string, { content?: Record<string, { schema: unknown }> }> }>> };
    assert.match(doc.openapi, /^3\./);
    for (const route of s.app.routeCatalogue.filter((r) => r.url.startsWith('/v1/'))) {
      const path = route.url.replace(/:([a-z]+)/g, '{$1}');
      const operation = doc.paths[path]?.[route.method.toLowerCase()];
      assert.ok(operation, `${route.method} ${path} is documented`);
      const success = Object.entries(operation.responses).find(([status]) => status.startsWith('2'));
      assert.ok(success?.[1].content, `${route.method} ${path} documents its answer`);
      assert.ok(operation.responses['403']?.content, `${route.method} ${path} documents its problems`);
    }
  }));
});
