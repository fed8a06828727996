import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { eq, sql } from 'drizzle-orm';
import type { FastifyInstance } from 'fastify';
import { loadHttpConfig } from '../src/config.js';
import { DEMO_SIGN_IN_HANDLES, refuseDemoOutsideEmbedded } from '../src/cli/demo-sign-in.js';
import { loadDemo } from '../src/cli/demo.js';
import { ManualClock } from '../src/domain/clock.js';
import { TenureError } from '../src/domain/errors.js';
import { buildApp } from '../src/http/app.js';
import type { Context } from '../src/work/context.js';
import { createDemoLinks, DEMO_LINK_TTL_MS, type DemoLink } from '../src/operations/create-demo-links.js';
import { rawRows, type Store } from '../src/store/database.js';
import { hashSecret } from '../src/operations/lib/credentials/secrets.js';
import { sessions } from '../src/store/schema-service.js';
import { identities } from '../src/store/schema.js';
import { demoSignInLinks } from '../src/store/schema-web.js';
import { freshStore } from './support/backends.js';

const BIN = fileURLToPath(new URL('../bin/tenure.mjs', import.meta.url));
const PUBLIC_URL = 'http://localhost:8080';
const SESSION_TTL_MS = 8 * 3_600_000;

describe('one-time demo sign-in links (tenure serve --demo) on the embedded database', () => {
  let store: Store;
  let clock: ManualClock;
  let system: Context;
  /** A server started with --demo, and one started without it, on the same database. */
  let demo: FastifyInstance;
  let plain: FastifyInstance;

  before(async () => {
    store = await freshStore('embedded');
    clock = new ManualClock();
    system = { store, clock, actor: { id: undefined, channel: 'system' } };
    assert.equal((await loadDemo(system, { ifEmpty: true })).loaded, true);
    const http = loadHttpConfig({ TENURE_PUBLIC_URL: PUBLIC_URL });
    demo = await buildApp({ store, clock, http, demo: { sessionTtlMs: SESSION_TTL_MS } });
    plain = await buildApp({ store, clock, http });
  });
  after(async () => { await demo.close(); await plain.close(); await store.close(); });

  const links = () => createDemoLinks(system, { handles: DEMO_SIGN_IN_HANDLES, publicUrl: PUBLIC_URL });
  const linkOf = (all: DemoLink[], handle: string) => all.find((l) => l.handle === handle)!;
  const open = (app: FastifyInstance, link: DemoLink) => app.inject({ method: 'GET', url: new URL(link.url).pathname });
  const sessionCount = async () => (await store.db.select().from(sessions)).length;
  const sessionCookie = (response: { headers: Record<string, unknown> }) =>
    [response.headers['set-cookie']].flat().map(String).find((c) => c.startsWith('tenure_session='));
  /** The link's row, found as the server finds it: by the SHA-256 of its secret (the secret itself is never stored). */
  const usedAt = async (link: DemoLink) => {
    const secret = new URL(link.url).pathname.split('/').pop()!;
    const [row] = await store.db.select({ usedAt: demoSignInLinks.usedAt }).from(demoSignInLinks)
      .where(eq(demoSignInLinks.secretHash, hashSecret(secret)));
    assert.ok(row, 'the link is stored by the SHA-256 of its secret');
    return row.usedAt;
  };

  it('a demo link signs in once and never again', async () => {
    const all = await links();
    assert.deepEqual(all.map((l) => l.handle), ['carl', 'sam', 'olivia', 'selma', 'audrey', 'ada']);
    for (const link of all) assert.match(link.url, /^http:\/\/localhost:8080\/auth\/demo\/tnd_[A-Za-z0-9_-]{43}$/);
    assert.equal(new Set(all.map((l) => l.url)).size, all.length, 'every persona gets its own secret');
    for (const link of all) assert.equal(linkOf(all, link.handle).expiresAt.getTime(), clock.now().getTime() + DEMO_LINK_TTL_MS);
    const carl = linkOf(all, 'carl');
    const before = await sessionCount();

    const first = await open(demo, carl);
    assert.equal(first.statusCode, 302, first.body);
    assert.equal(first.headers.location, '/');
    assert.equal(first.headers['cache-control'], 'no-store');
    const cookie = sessionCookie(first);
    assert.match(cookie ?? '', /^tenure_session=tns_[A-Za-z0-9_-]{43};/);
    assert.match(cookie!, /HttpOnly/);
    assert.match(cookie!, /SameSite=Lax/);
    assert.match(cookie!, /Max-Age=28800/);
    const me = await demo.inject({ method: 'GET', url: '/v1/me', headers: { cookie: cookie!.split(';')[0]! } });
    assert.equal(me.statusCode, 200, me.body);
    assert.deepEqual([me.json().handle, me.json().channel], ['carl', 'web']);
    assert.equal(await sessionCount(), before + 1);
    assert.ok(await usedAt(carl), 'the link is marked used');

    const [event] = await rawRows<{ channel: string; handle: string; canonical: string }>(store.db,
      sql`SELECT e.channel, i.handle, e.canonical FROM audit_events e JOIN identities i ON i.id = e.actor_id
          WHERE e.action = 'session.created' ORDER BY e.seq DESC LIMIT 1`);
    assert.deepEqual([event?.channel, event?.handle], ['web', 'carl']);
    assert.match(event!.canonical, /"method":"demo_link"/);
    assert.ok(!event!.canonical.includes(new URL(carl.url).pathname.split('/').pop()!), 'the secret is never in the audit log');
    assert.ok(!event!.canonical.includes(cookie!.split(';')[0]!.slice('tenure_session='.length)));

    const again = await open(demo, carl);
    assert.equal(again.statusCode, 400);
    assert.equal(again.json().code, 'auth.demo_link_invalid');
    assert.equal(sessionCookie(again), undefined);
    assert.equal(await sessionCount(), before + 1, 'a second use creates nothing');

    const forged = await demo.inject({ method: 'GET', url: `/auth/demo/tnd_${'A'.repeat(43)}` });
    assert.equal(forged.json().code, 'auth.demo_link_invalid');
    assert.equal((await demo.inject({ method: 'GET', url: '/auth/demo/not-a-link' })).json().code, 'auth.demo_link_invalid');
  });

  it('an expired demo link is refused', async () => {
    const sam = linkOf(await links(), 'sam');
    const before = await sessionCount();
    clock.advance(DEMO_LINK_TTL_MS);
    const late = await open(demo, sam);
    assert.equal(late.statusCode, 400);
    assert.equal(late.json().code, 'auth.demo_link_invalid');
    assert.equal(sessionCookie(late), undefined);
    assert.equal(await sessionCount(), before);
    assert.equal(await usedAt(sam), null, 'an expired link is not marked used either');
  });

  it('without --demo there is no demo sign-in', async () => {
    const olivia = linkOf(await links(), 'olivia');
    const before = await sessionCount();
    const refused = await open(plain, olivia);
    assert.equal(refused.statusCode, 404);
    assert.equal(refused.json().code, 'auth.demo_links_off');
    assert.equal(sessionCookie(refused), undefined);
    assert.equal(await sessionCount(), before);
    assert.equal(await usedAt(olivia), null, 'the link is untouched');
    // The same link still works on the server started with --demo: nothing was consumed above.
    assert.equal((await open(demo, olivia)).statusCode, 302);
  });

  it('--demo is refused when DATABASE_URL is set or NODE_ENV is production', () => {
    const refusal = (config: { databaseUrl: string | undefined }, env: NodeJS.ProcessEnv) => {
      try {
        refuseDemoOutsideEmbedded(config, env);
        return undefined;
      } catch (error) {
        return error instanceof TenureError ? error.code : String(error);
      }
    };
    assert.equal(refusal({ databaseUrl: 'postgres://db.example/tenure' }, {}), 'demo.not_allowed');
    assert.equal(refusal({ databaseUrl: undefined }, { NODE_ENV: 'production' }), 'demo.not_allowed');
    assert.equal(refusal({ databaseUrl: undefined }, { NODE_ENV: 'development' }), undefined);

    // And as a person runs it: refused with exit code 3 before any database is opened or created.
    const dataDir = join(mkdtempSync(join(tmpdir(), 'tenure-demo-refused-')), 'data');
    const serve = (env: NodeJS.ProcessEnv) => spawnSync(process.execPath, [BIN, 'serve', '--demo', '--port', '0'],
      { env: { ...process.env, TENURE_DATA_DIR: dataDir, DATABASE_URL: '', NODE_ENV: '', ...env }, encoding: 'utf8', timeout: 60_000 });
    for (const env of [{ DATABASE_URL: 'postgres://postgres@127.0.0.1:1/nowhere' }, { NODE_ENV: 'production' }]) {
      const run = serve(env);
      assert.equal(run.status, 3, `${JSON.stringify(env)}: ${run.stderr}`);
      assert.match(run.stderr, /error demo\.not_allowed: /);
      assert.equal(run.stdout.includes('/auth/demo/'), false);
    }
    assert.equal(existsSync(dataDir), false, 'no embedded database was created');
  });
});

/** A persona who is no longer active cannot use a link made before, and the link is left unused. */
describe('a demo link of a persona who is no longer active', () => {
  it('signs nobody in', async () => {
    const store = await freshStore('embedded');
    const clock = new ManualClock();
    const system: Context = { store, clock, actor: { id: undefined, channel: 'system' } };
    await loadDemo(system, { ifEmpty: true });
    const app = await buildApp({ store, clock, http: loadHttpConfig({}), demo: { sessionTtlMs: SESSION_TTL_MS } });
    try {
      const [carl] = await createDemoLinks(system, { handles: ['carl'], publicUrl: PUBLIC_URL });
      await store.db.update(identities).set({ status: 'suspended' }).where(eq(identities.handle, 'carl'));
      const refused = await app.inject({ method: 'GET', url: new URL(carl!.url).pathname });
      assert.equal(refused.statusCode, 403);
      assert.equal(refused.json().code, 'auth.sign_in_refused');
      assert.equal((await store.db.select().from(sessions)).length, 0);
      const [row] = await store.db.select().from(demoSignInLinks).where(eq(demoSignInLinks.expiresAt, carl!.expiresAt));
      assert.equal(row?.usedAt, null);
    } finally {
      await app.close();
      await store.close();
    }
  });
});
