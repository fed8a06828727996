import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { eq, sql } from 'drizzle-orm';
import { loadHttpConfig } from '../src/config.js';
import { buildApp } from '../src/http/app.js';
import { changeIdentityStatus } from '../src/operations/change-identity-status.js';
import { createIdentity } from '../src/operations/create-identity.js';
import { rawRows, type Store } from '../src/store/database.js';
import { apiTokens, externalSubjects, oidcLogins, sessions } from '../src/store/schema-service.js';
import { BACKENDS, freshStore } from './support/backends.js';
import { Browser, freePort, passProvider, startOidcProvider, type ProviderAccount, type TestProvider } from './support/oidc-provider.js';
import { startService, type Service } from './support/service.js';

const ACCOUNTS: ProviderAccount[] = [
  { sub: 'p-nina', email: 'nina.newhire@example.test', emailVerified: true },
  { sub: 'p-omar', email: 'omar@example.test', emailVerified: false },
  { sub: 'p-paula', email: 'paula@example.test', emailVerified: true },
  { sub: 'p-lena', email: 'lena@example.test', emailVerified: true },
  { sub: 'p-ghost', email: 'ghost@example.test', emailVerified: true },
];
const PEOPLE = [
  { handle: 'nina', displayName: 'Nina Newhire', email: 'Nina.Newhire@Example.test' },
  { handle: 'omar', displayName: 'Omar Unverified', email: 'omar@example.test' },
  { handle: 'paula', displayName: 'Paula Suspended', email: 'paula@example.test' },
  { handle: 'lena', displayName: 'Lena Leaving', email: 'lena@example.test' },
];

interface Problem { code: string; detail: string }

for (const backend of BACKENDS) {
  describe(`web sign-in by OIDC against a real provider on ${backend}`, () => {
    let store: Store;
    let s: Service;
    let provider: TestProvider;
    let base: string;
    let callbackPrefix: string;
    /** Every session secret, code and state handed out, to look for in the audit log at the end. */
    const handedOut: string[] = [];

    before(async () => {
      store = await freshStore(backend);
      const port = await freePort();
      base = `http://127.0.0.1:${port}`;
      callbackPrefix = `${base}/auth/callback`;
      provider = await startOidcProvider({ redirectUri: callbackPrefix, accounts: ACCOUNTS });
      s = await startService(store, { env: {
        TENURE_PUBLIC_URL: base, TENURE_OIDC_ISSUER: provider.issuer, TENURE_OIDC_ALLOW_HTTP: '1',
        TENURE_OIDC_CLIENT_ID: provider.clientId, TENURE_OIDC_CLIENT_SECRET: provider.clientSecret, TENURE_SESSION_TTL: '8h',
      } });
      await s.app.listen({ port, host: '127.0.0.1' });
      const ada = await s.world.as('ada');
      for (const person of PEOPLE) await createIdentity(ada, { ...person, kind: 'employee' });
    });
    after(async () => { await s.app.close(); await provider.close(); await store.close(); });

    /** Through the provider and back: the callback URL as the provider sent it, not yet opened. */
    const toCallback = async (browser: Browser, sub: string, returnTo = '/v1/me') =>
      passProvider(browser, `${base}/auth/login?returnTo=${encodeURIComponent(returnTo)}`, sub, callbackPrefix);

    const signIn = async (sub: string, returnTo?: string) => {
      const browser = new Browser();
      const callbackUrl = await toCallback(browser, sub, returnTo);
      handedOut.push(new URL(callbackUrl).searchParams.get('code')!, new URL(callbackUrl).searchParams.get('state')!);
      const landed = await browser.fetch(callbackUrl);
      const session = browser.cookie(base, 'tenure_session');
      if (session) handedOut.push(session);
      return { browser, landed, session, callbackUrl };
    };

    const me = (browser: Browser) => browser.fetch(`${base}/v1/me`);
    const problem = async (response: Response) => (await response.json()) as Problem;
    const sessionCount = async () => (await store.db.select().from(sessions)).length;

    it('a person signs in at the provider and reaches the API as her Tenure identity over the web channel', async () => {
      const { browser, landed, session } = await signIn('p-nina', '/v1/me');
      assert.equal(landed.status, 302, await landed.clone().text());
      assert.equal(landed.headers.get('location'), '/v1/me');
      assert.match(session ?? '', /^tns_[A-Za-z0-9_-]{43}$/);
      const cookie = landed.headers.getSetCookie().find((c) => c.startsWith('tenure_session='))!;
      assert.match(cookie, /HttpOnly/);
      assert.match(cookie, /SameSite=Lax/);
      assert.match(cookie, /Path=\//);
      assert.match(cookie, /Max-Age=28800/);
      assert.doesNotMatch(cookie, /Secure/, 'the public URL is http, so the cookie cannot be Secure');
      const who = await (await me(browser)).json() as { handle: string; channel: string; tokenId: string | null };
      assert.deepEqual([who.handle, who.channel, who.tokenId], ['nina', 'web', null]);
      const [bound] = await store.db.select().from(externalSubjects).where(eq(externalSubjects.subject, 'p-nina'));
      assert.equal(bound?.identityId, await s.world.id('nina'));
      assert.equal(bound?.issuer, provider.issuer);
    });

    it('the session is audited as created by the person on the web channel, with its id and no secret', async () => {
      const [event] = await rawRows<{ channel: string; actor_id: string; subject_id: string; canonical: string }>(store.db,
        sql`SELECT channel, actor_id, subject_id, canonical FROM audit_events WHERE action = 'session.created' ORDER BY seq LIMIT 1`);
      const [row] = await store.db.select().from(sessions).where(eq(sessions.identityId, await s.world.id('nina')));
      assert.deepEqual([event?.channel, event?.actor_id, event?.subject_id], ['web', await s.world.id('nina'), row?.id]);
      assert.match(event!.canonical, /"matchedBy":"email"/);
    });

    it('a bound subject signs in as its identity even after the provider changes its email', async () => {
      ACCOUNTS[0]!.email = 'nina@elsewhere.example';
      const { browser, landed } = await signIn('p-nina');
      ACCOUNTS[0]!.email = 'nina.newhire@example.test';
      assert.equal(landed.status, 302);
      assert.equal(((await (await me(browser)).json()) as { handle: string }).handle, 'nina');
    });

    it('a provider account whose email no identity has is refused, and no session is created', async () => {
      const before = await sessionCount();
      const { landed, session } = await signIn('p-ghost');
      assert.equal(landed.status, 403);
      assert.equal((await problem(landed)).code, 'auth.sign_in_refused');
      assert.equal(session, undefined);
      assert.equal(await sessionCount(), before);
    });

    it('an email the provider has not verified is refused, even though an identity has it', async () => {
      const { landed, session } = await signIn('p-omar');
      assert.equal(landed.status, 403);
      const refusal = await problem(landed);
      assert.equal(refusal.code, 'auth.sign_in_refused');
      assert.doesNotMatch(refusal.detail, /verif|omar|email/i, 'the browser learns the code, not the reason');
      assert.equal(session, undefined);
      assert.equal((await store.db.select().from(externalSubjects).where(eq(externalSubjects.subject, 'p-omar'))).length, 0);
    });

    it('suspending an identity stops its session and its API token on the very next request', async () => {
      const { browser } = await signIn('p-paula');
      const token = await s.token('paula', ['read']);
      handedOut.push(token);
      const byToken = () => fetch(`${base}/v1/me`, { headers: { authorization: `Bearer ${token}` } });
      assert.equal((await me(browser)).status, 200);
      assert.equal((await byToken()).status, 200);
      await changeIdentityStatus(await s.world.as('ada'), { identity: 'paula', status: 'suspended', reason: 'left the project' });
      for (const response of [await me(browser), await byToken()]) {
        assert.equal(response.status, 401);
        assert.equal((await problem(response)).code, 'auth.invalid_credentials');
      }
      const paula = await s.world.id('paula');
      assert.ok((await store.db.select().from(sessions).where(eq(sessions.identityId, paula))).every((r) => r.revokedAt));
      assert.ok((await store.db.select().from(apiTokens).where(eq(apiTokens.identityId, paula))).every((r) => r.revokedAt));
      const ended = await rawRows<{ action: string }>(store.db,
        sql`SELECT action FROM audit_events WHERE identity_id = ${paula} AND action IN ('session.ended', 'token.revoked') ORDER BY seq`);
      assert.deepEqual(ended.map((e) => e.action), ['token.revoked', 'session.ended']);
    });

    it('a suspended identity cannot sign in again', async () => {
      const { landed, session } = await signIn('p-paula');
      assert.equal(landed.status, 403);
      assert.equal((await problem(landed)).code, 'auth.sign_in_refused');
      assert.equal(session, undefined);
    });

    it('signing out ends the session and clears the cookie', async () => {
      const { browser, session } = await signIn('p-lena');
      const out = await browser.fetch(`${base}/auth/logout`, { method: 'POST' });
      assert.equal(out.status, 204);
      assert.match(out.headers.getSetCookie().find((c) => c.startsWith('tenure_session='))!, /Expires=Thu, 01 Jan 1970/);
      assert.equal(browser.cookie(base, 'tenure_session'), undefined);
      const stale = await fetch(`${base}/v1/me`, { headers: { cookie: `tenure_session=${session!}` } });
      assert.equal(stale.status, 401);
      const [ended] = await rawRows<{ channel: string }>(store.db,
        sql`SELECT channel FROM audit_events WHERE action = 'session.ended' AND identity_id = ${await s.world.id('lena')}`);
      assert.equal(ended?.channel, 'web');
      assert.equal((await browser.fetch(`${base}/auth/logout`, { method: 'POST' })).status, 204, 'signing out twice is harmless');
    });

    it('a callback is used once: replaying the same state is refused', async () => {
      const browser = new Browser();
      const callbackUrl = await toCallback(browser, 'p-nina');
      const binding = browser.cookie(base, 'tenure_sign_in')!;
      handedOut.push(new URL(callbackUrl).searchParams.get('code')!);
      assert.equal((await browser.fetch(callbackUrl)).status, 302);
      handedOut.push(browser.cookie(base, 'tenure_session')!);
      const replay = new Browser();
      replay.setCookie(base, 'tenure_sign_in', binding);
      const again = await replay.fetch(callbackUrl);
      assert.equal(again.status, 400);
      assert.equal((await problem(again)).code, 'auth.sign_in_invalid');
      assert.equal(replay.cookie(base, 'tenure_session'), undefined);
    });

    it('a callback opened in a browser that did not start the sign-in is refused, and the sign-in stays usable', async () => {
      const browser = new Browser();
      const callbackUrl = await toCallback(browser, 'p-nina');
      handedOut.push(new URL(callbackUrl).searchParams.get('code')!);
      const elsewhere = await new Browser().fetch(callbackUrl);
      assert.equal(elsewhere.status, 400);
      assert.equal((await problem(elsewhere)).code, 'auth.sign_in_invalid');
      assert.equal((await browser.fetch(callbackUrl)).status, 302);
      handedOut.push(browser.cookie(base, 'tenure_session')!);
    });

    it('a sign-in not finished within ten minutes is refused', async () => {
      const browser = new Browser();
      const callbackUrl = await toCallback(browser, 'p-nina');
      s.world.clock.advance(11 * 60_000);
      const late = await browser.fetch(callbackUrl);
      assert.equal(late.status, 400);
      assert.equal((await problem(late)).code, 'auth.sign_in_invalid');
      assert.equal(browser.cookie(base, 'tenure_sign_in'), undefined, 'a refused callback clears the sign-in cookie too');
    });

    it('returnTo must be a path of this service: other sites are refused before anything is stored', async () => {
      const pending = (await store.db.select().from(oidcLogins)).length;
      for (const target of ['https://evil.example', '//evil.example', '/\\evil.example', 'evil.example', '/ok\r\nx: y']) {
        const response = await fetch(`${base}/auth/login?returnTo=${encodeURIComponent(target)}`, { redirect: 'manual' });
        assert.equal(response.status, 400, target);
        const refusal = await problem(response);
        assert.deepEqual([refusal.code, (refusal as Problem & { field?: string }).field], ['input.invalid', 'returnTo'], target);
      }
      assert.equal((await store.db.select().from(oidcLogins)).length, pending);
    });

    it('no session secret, token, authorization code or state appears in any audit event', async () => {
      assert.ok(handedOut.length >= 10);
      const [all] = await rawRows<{ text: string }>(store.db, sql`SELECT string_agg(canonical, '\n') AS text FROM audit_events`);
      for (const secret of handedOut) assert.ok(!all!.text.includes(secret), 'a credential reached the audit log');
    });

    it('over https the cookies are Secure; without an issuer the sign-in routes say so', async () => {
      const https = await buildApp({ store, clock: s.world.clock, http: loadHttpConfig({ TENURE_PUBLIC_URL: 'https://tenure.example',
        TENURE_OIDC_ISSUER: provider.issuer, TENURE_OIDC_ALLOW_HTTP: '1', TENURE_OIDC_CLIENT_ID: provider.clientId,
        TENURE_OIDC_CLIENT_SECRET: provider.clientSecret }) });
      const started = await https.inject({ method: 'GET', url: '/auth/login' });
      assert.equal(started.statusCode, 302);
      assert.match(String(started.headers['set-cookie']), /tenure_sign_in=.*Path=\/auth\/callback.*HttpOnly.*Secure.*SameSite=Lax/);
      const plain = await buildApp({ store, clock: s.world.clock, http: loadHttpConfig({}) });
      for (const url of ['/auth/login', '/auth/callback?state=x&code=y']) {
        const response = await plain.inject({ method: 'GET', url });
        assert.deepEqual([response.statusCode, response.json<Problem>().code], [404, 'auth.oidc_not_configured']);
      }
      await Promise.all([https.close(), plain.close()]);
    });

    it('a mistake in the OIDC settings stops the service at start-up, naming the variable; the CLI never reads them', async () => {
      const cases: [NodeJS.ProcessEnv, string][] = [
        [{ TENURE_OIDC_ISSUER: provider.issuer, TENURE_OIDC_ALLOW_HTTP: '1' }, 'TENURE_OIDC_CLIENT_ID'],
        [{ TENURE_OIDC_ISSUER: provider.issuer, TENURE_OIDC_CLIENT_ID: 'x', TENURE_OIDC_CLIENT_SECRET: 'y' }, 'TENURE_OIDC_ISSUER'],
        [{ TENURE_OIDC_ISSUER: provider.issuer, TENURE_OIDC_ALLOW_HTTP: '1', TENURE_OIDC_CLIENT_ID: 'x',
          TENURE_OIDC_CLIENT_SECRET_FILE: '/nonexistent/secret' }, 'TENURE_OIDC_CLIENT_SECRET_FILE'],
        [{ TENURE_OIDC_ISSUER: provider.issuer, TENURE_OIDC_ALLOW_HTTP: '1', TENURE_OIDC_CLIENT_ID: 'x',
          TENURE_OIDC_CLIENT_SECRET: 'y', TENURE_SESSION_TTL: '90d' }, 'TENURE_SESSION_TTL'],
      ];
      for (const [env, variable] of cases) {
        const http = loadHttpConfig(env);
        await assert.rejects(buildApp({ store, clock: s.world.clock, http }), (error: Error & { code?: string; field?: string }) =>
          error.code === 'input.invalid' && error.field === variable, variable);
      }
    });
  });
}
