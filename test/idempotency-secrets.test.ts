import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { sql } from 'drizzle-orm';
import { z } from 'zod';
import { UndeclaredSecretError } from '../src/http/shown-once.js';
import { newSecret } from '../src/operations/lib/credentials/secrets.js';
import { rawRows, type Store } from '../src/store/database.js';
import { keyRing, webhookKey } from '../src/webhooks/crypto.js';
import { BACKENDS, freshStore, type Backend } from './support/backends.js';
import { startService, type Service } from './support/service.js';
import { startReceiver, type Receiver } from './support/webhook-receiver.js';

const key = keyRing([webhookKey(randomBytes(32), 'test')]);

/** Every column of every idempotency row, as text: where a kept secret would be found, whatever its column. */
const idempotencyText = async (store: Store): Promise<string> => {
  const columns = await rawRows<{ column_name: string }>(store.db, sql`
    SELECT column_name FROM information_schema.columns WHERE table_name = 'idempotency_keys' AND table_schema = current_schema()`);
  assert.ok(columns.length >= 5, 'the table is there');
  const select = sql.join(columns.map((c) => sql`coalesce(${sql.identifier(c.column_name)}::text, '')`), sql` || ' ' || `);
  const rows = await rawRows<{ text: string }>(store.db, sql`SELECT ${select} AS text FROM idempotency_keys`);
  assert.ok(rows.length > 0, 'outcomes were stored');
  return rows.map((r) => r.text).join('\n');
};

/** The routes that answer a secret, each with a body that succeeds and who may call it. */
const SECRET_ROUTES = (rx: Receiver) => [
  { url: '/v1/tokens', as: 'eve', body: { name: 'ci', scopes: ['read'] } },
  { url: '/v1/tokens', as: 'tom', body: { name: 'bot key', identity: 'bot', scopes: ['check'] } },
  { url: '/v1/webhooks', as: 'ada', body: { url: rx.url, events: ['grant.revoked'] } },
];

const suite = (backend: Backend) => describe(`the idempotency store never keeps a secret (${backend})`, () => {
  let s: Service;
  let rx: Receiver;
  before(async () => {
    s = await startService(await freshStore(backend), { webhookKey: () => key });
    rx = await startReceiver();
  });
  after(async () => { await rx.close(); await s.app.close(); await s.world.store.close(); });

  it('a token or webhook created with an Idempotency-Key leaves no secret in idempotency_keys, and its replay says the secret was shown once', async () => {
    const secrets: string[] = [];
    for (const [i, route] of SECRET_ROUTES(rx).entries()) {
      const headers = { 'idempotency-key': `secret-route-${i}` };
      const first = await s.call('POST', route.url, { as: route.as, body: route.body, headers });
      assert.equal(first.statusCode, 201, first.body);
      const secret = first.json().secret as string;
      assert.match(secret, /^(tnr_[A-Za-z0-9_-]{43}|whsec_[A-Za-z0-9+/]{43}=)$/);
      secrets.push(secret);
      const replay = await s.call('POST', route.url, { as: route.as, body: route.body, headers });
      assert.equal(replay.statusCode, 201, replay.body);
      assert.equal(replay.headers['idempotent-replayed'], 'true');
      assert.deepEqual([replay.json().id, replay.json().secret, replay.json().secretShownOnce], [first.json().id, null, true]);
      assert.ok(!replay.body.includes(secret.slice(-43)));
    }
    const kept = await idempotencyText(s.world.store);
    for (const secret of secrets) assert.ok(!kept.includes(secret.slice(-43)), `${secret.slice(0, 6)}… was kept in idempotency_keys`);
  });
});

for (const backend of BACKENDS) suite(backend);

describe('a route cannot forget its secret', () => {
  it('a route answering a secret-like field it does not declare shown once is refused at start-up', async () => {
    const s = await startService(await freshStore('embedded'));
    try {
      assert.throws(() => s.app.post('/v1/leaky', {
        config: { access: { scope: 'write', permission: 'self' } },
        schema: { response: { 201: z.object({ id: z.string(), privateKey: z.string() }) } },
      }, () => ({ id: 'x', privateKey: 'y' })), UndeclaredSecretError);
    } finally {
      await s.app.close();
      await s.world.store.close();
    }
  });

  it('a secret-shaped value in a field nobody declared is still not kept, and its replay does not carry it', async () => {
    const s = await startService(await freshStore(BACKENDS.includes('postgres') ? 'postgres' : 'embedded'));
    try {
      s.app.post('/v1/careless', {
        config: { access: { scope: 'write', permission: 'self' } },
        schema: { response: { 201: z.object({ id: z.string(), note: z.string() }) } },
      }, async (_request, reply) => reply.code(201).send({ id: 'careless', note: `keep ${newSecret('tnr')} safe` }));
      const headers = { 'idempotency-key': 'careless-1' };
      const first = await s.call('POST', '/v1/careless', { as: 'eve', body: {}, headers });
      assert.equal(first.statusCode, 201, first.body);
      const leaked = /tnr_[A-Za-z0-9_-]{43}/.exec(first.json().note as string)![0];
      assert.ok(!(await idempotencyText(s.world.store)).includes(leaked.slice(4)));
      const replay = await s.call('POST', '/v1/careless', { as: 'eve', body: {}, headers });
      assert.equal(replay.headers['idempotent-replayed'], 'true');
      assert.ok(!replay.body.includes(leaked.slice(4)));
    } finally {
      await s.app.close();
      await s.world.store.close();
    }
  });
});
