import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import fc from 'fast-check';
import { loadHttpConfig } from '../src/config.js';
import { DecisionService } from '../src/decision/service.js';
import { buildApp } from '../src/http/app.js';
import { createToken } from '../src/operations/create-token.js';
import type { Store } from '../src/store/database.js';
import { ERRORS } from '../src/domain/errors.js';
import { freshStore } from './support/backends.js';
import { changedTables, databaseDigest } from './support/db-digest.js';
import { fromSchema, HOSTILE, mutate, type JsonSchema } from './support/openapi-arbitraries.js';
import { buildWorld } from './support/world.js';

/**
 * Fuzzes every operation of the OpenAPI document the server serves, as an administrator, on the
 * PostgreSQL backend. Bounded for CI (a fixed seed, a few calls per operation, a time budget);
 * FUZZ_RUNS (calls per operation), FUZZ_SEED and FUZZ_BUDGET_MS widen a local run.
 */
const RUNS = Number(process.env.FUZZ_RUNS ?? 10);
const SEED = Number(process.env.FUZZ_SEED ?? 14_2026);
const BUDGET_MS = Number(process.env.FUZZ_BUDGET_MS ?? 60_000);

interface Parameter { name: string; in: 'path' | 'query' | 'header'; required?: boolean; schema: JsonSchema }
interface Operation { method: string; path: string; parameters: Parameter[]; body: JsonSchema | undefined }
interface Call { method: string; url: string; body: string | undefined }
interface Outcome { op: string; call: Call; status: number; code?: string; problem?: string }

const operationsOf = (doc: { paths: Record<string, Record<string, { parameters?: Parameter[]; requestBody?: { content: Record<string, { schema: JsonSchema }> } }>> }): Operation[] =>
  Object.entries(doc.paths).flatMap(([path, ops]) => Object.entries(ops).map(([method, op]) => ({
    method: method.toUpperCase(), path, parameters: op.parameters ?? [], body: op.requestBody?.content['application/json']?.schema,
  })));

/** Percent-encodes like encodeURIComponent, but sends a lone surrogate as its WTF-8 bytes instead of throwing. */
const pct = (text: string): string => Array.from(text).map((ch) => {
  try {
    return encodeURIComponent(ch);
  } catch {
    const c = ch.charCodeAt(0);
    return [0xe0 | (c >> 12), 0x80 | ((c >> 6) & 0x3f), 0x80 | (c & 0x3f)].map((b) => `%${b.toString(16).toUpperCase()}`).join('');
  }
}).join('');

const asText = (value: unknown): string => (typeof value === 'string' ? value : JSON.stringify(value) ?? '');

const queryOf = (values: Record<string, unknown>): string => {
  const pairs = Object.entries(values).filter(([, v]) => v !== undefined)
    .flatMap(([k, v]) => (Array.isArray(v) ? v : [v]).map((item) => `${pct(k)}=${pct(asText(item))}`));
  return pairs.length > 0 ? `?${pairs.join('&')}` : '';
};

const objectSchema = (params: Parameter[]): JsonSchema => ({
  type: 'object', properties: Object.fromEntries(params.map((p) => [p.name, p.schema])), required: params.filter((p) => p.required).map((p) => p.name),
});

/** Half the calls are what the schema allows; the other half carry one hostile value, key or type. */
const hostileOrNot = (arb: fc.Arbitrary<unknown>) => arb.chain((value) => fc.oneof(fc.constant(value), mutate(value)));

const callsFor = (op: Operation): fc.Arbitrary<Call> => {
  const pathParams = op.parameters.filter((p) => p.in === 'path');
  const queryParams = op.parameters.filter((p) => p.in === 'query');
  const segment = (p: Parameter) => fc.oneof(fromSchema(p.schema), fc.constantFrom(...HOSTILE)).map(asText);
  return fc.record({
    path: fc.tuple(...pathParams.map(segment)),
    query: queryParams.length > 0 ? hostileOrNot(fromSchema(objectSchema(queryParams))) : fc.constant({}),
    body: op.body ? hostileOrNot(fromSchema(op.body)) : fc.constant(undefined),
  }).map(({ path, query, body }) => {
    let url = op.path;
    pathParams.forEach((p, i) => { url = url.replace(`{${p.name}}`, pct(path[i] ?? '')); });
    const search = typeof query === 'object' && query !== null && !Array.isArray(query) ? queryOf(query as Record<string, unknown>) : `?q=${pct(asText(query))}`;
    return { method: op.method, url: url + search, body: body === undefined ? undefined : JSON.stringify(body) };
  });
};

describe('fuzzing every operation of the OpenAPI document on postgres', () => {
  let app: FastifyInstance;
  let store: Store;
  let decisions: DecisionService;
  let token: string;
  const errors: string[] = [];
  const outcomes: Outcome[] = [];
  const writes: { call: Call; status: number; tables: string[] }[] = [];
  let operations: Operation[] = [];

  before(async () => {
    const world = await buildWorld(await freshStore('postgres'));
    // A real decision point, so POST /v1/check is fuzzed too rather than answered "not ready".
    decisions = await DecisionService.start({ store: world.store, clock: world.clock, poll: false });
    app = await buildApp({
      store: world.store, clock: world.clock, http: loadHttpConfig({ TENURE_WRITES_PER_MINUTE: '1000000' }), decision: decisions,
      logger: { level: 'error', stream: { write: (line: string) => { errors.push(line); } } },
    });
    store = world.store;
    token = (await createToken(await world.as('ada'), { name: 'fuzz', scopes: ['read', 'write', 'check'] })).secret;
    const served = await app.inject({ method: 'GET', url: '/docs/json', headers: { authorization: `Bearer ${token}` } });
    assert.equal(served.statusCode, 200, 'the server serves its OpenAPI document');
    operations = operationsOf(served.json() as Parameters<typeof operationsOf>[0]);
    const started = Date.now();
    let digest = await databaseDigest(store);
    for (const [index, op] of operations.entries()) {
      if (Date.now() - started > BUDGET_MS) break;
      for (const call of fc.sample(callsFor(op), { seed: SEED + index, numRuns: RUNS })) {
        const res = await app.inject({
          method: call.method as 'GET', url: call.url, payload: call.body,
          headers: { authorization: `Bearer ${token}`, ...(call.body === undefined ? {} : { 'content-type': 'application/json' }) },
        });
        const problem = String(res.headers['content-type'] ?? '').startsWith('application/problem+json') ? res.json() as { code: string } : undefined;
        outcomes.push({ op: `${op.method} ${op.path}`, call, status: res.statusCode, ...(problem ? { code: problem.code } : {}), problem: res.body.slice(0, 300) });
        const next = await databaseDigest(store);
        if (res.statusCode >= 400) {
          const tables = changedTables(digest, next);
          if (tables.length > 0) writes.push({ call, status: res.statusCode, tables });
        }
        digest = next;
      }
    }
  });
  after(async () => { await app.close(); await decisions.stop(); await store.close(); });

  const show = (o: Outcome) => `${o.status} ${o.call.method} ${o.call.url} ${o.call.body ?? ''} -> ${o.problem ?? ''}`;

  it('every operation in the document is called, within the time budget', (t) => {
    assert.ok(operations.length > 50, `only ${operations.length} operations in the document`);
    const called = new Set(outcomes.map((o) => o.op));
    assert.deepEqual(operations.map((op) => `${op.method} ${op.path}`).filter((op) => !called.has(op)), []);
    const statuses = new Map<number, number>();
    for (const o of outcomes) statuses.set(o.status, (statuses.get(o.status) ?? 0) + 1);
    const spread = [...statuses].sort(([a], [b]) => a - b).map(([status, n]) => `${status}: ${n}`).join(', ');
    t.diagnostic(`${outcomes.length} calls over ${operations.length} operations (seed ${SEED}); ${spread}`);
  });

  it('no call answers with a server error', () => {
    const failures = outcomes.filter((o) => o.status >= 500);
    assert.deepEqual(failures.map(show), [], `server errors:\n${errors.slice(0, 5).join('\n')}`);
  });

  it('every refusal is a problem document with a code from the error registry', () => {
    const bad = outcomes.filter((o) => o.status >= 400 && (o.code === undefined || !(o.code in ERRORS)));
    assert.deepEqual(bad.map(show), []);
  });

  it('a refused request leaves every table as it was, audit chain included', () => {
    assert.deepEqual(writes.map((w) => `${w.status} ${w.call.method} ${w.call.url} wrote ${w.tables.join(', ')}`), []);
  });
});
