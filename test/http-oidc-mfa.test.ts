import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { eq, sql } from 'drizzle-orm';
import { createIdentity } from '../src/operations/create-identity.js';
import { createToken } from '../src/operations/create-token.js';
import { rawRows, type Store } from '../src/store/database.js';
import { apiTokens, sessions } from '../src/store/schema-service.js';
import { BACKENDS, freshStore } from './support/backends.js';
import { Browser, freePort, passProvider, startOidcProvider, type ProviderAccount, type TestProvider } from './support/oidc-provider.js';
import { startService, type Service } from './support/service.js';

const MFA_ACR = 'urn:example:loa:mfa';
const ACCOUNTS: ProviderAccount[] = [
  { sub: 'p-mona', email: 'mona@example.test', emailVerified: true, amr: ['pwd', 'otp'] },
  { sub: 'p-pete', email: 'pete@example.test', emailVerified: true, amr: ['pwd'] },
  { sub: 'p-alba', email: 'alba@example.test', emailVerified: true, amr: ['pwd'], acr: MFA_ACR },
  { sub: 'p-otto', email: 'otto@example.test', emailVerified: true, amr: ['otp'], acr: 'urn:example:loa:low' },
];

interface TokenView { id: string; identity: string; mfa: boolean; secret: string }

for (const backend of BACKENDS) {
  describe(`MFA from the OIDC sign-in, on ${backend}`, () => {
    let store: Store;
    let s: Service;
    let provider: TestProvider;
    let base: string;

    before(async () => {
      store = await freshStore(backend);
      const port = await freePort();
      base = `http://127.0.0.1:${port}`;
      provider = await startOidcProvider({ redirectUri: `${base}/auth/callback`, accounts: ACCOUNTS });
      s = await startService(store, { env: {
        TENURE_PUBLIC_URL: base, TENURE_OIDC_ISSUER: provider.issuer, TENURE_OIDC_ALLOW_HTTP: '1',
        TENURE_OIDC_CLIENT_ID: provider.clientId, TENURE_OIDC_CLIENT_SECRET: provider.clientSecret, TENURE_OIDC_MFA_ACR: `${MFA_ACR}, urn:other`,
      } });
      await s.app.listen({ port, host: '127.0.0.1' });
      const ada = await s.world.as('ada');
      for (const handle of ['mona', 'pete', 'alba', 'otto']) {
        await createIdentity(ada, { handle, displayName: handle, email: `${handle}@example.test`, kind: 'employee' });
      }
      await createIdentity(ada, { handle: 'monabot', displayName: 'Mona\'s bot', kind: 'service_account', owner: 'mona' });
    });
    after(async () => { await s.app.close(); await provider.close(); await store.close(); });

    /** Signs in through the provider; the session cookie's secret. */
    const signIn = async (sub: string): Promise<string> => {
      const browser = new Browser();
      const callback = await passProvider(browser, `${base}/auth/login`, sub, `${base}/auth/callback`);
      const landed = await browser.fetch(callback);
      assert.equal(landed.status, 302, await landed.text());
      return browser.cookie(base, 'tenure_session')!;
    };
    const sessionMfa = async (handle: string) => {
      const rows = await store.db.select({ mfa: sessions.mfa }).from(sessions).where(eq(sessions.identityId, await s.world.id(handle)));
      return rows.map((row) => row.mfa);
    };
    /** POST /v1/tokens with a session cookie (from the console's origin) or a bearer token. */
    const mint = async (credential: { session: string } | { token: string }, body: Record<string, unknown>): Promise<TokenView> => {
      const headers: Record<string, string> = { 'content-type': 'application/json', origin: base };
      if ('session' in credential) headers.cookie = `tenure_session=${credential.session}`;
      else headers.authorization = `Bearer ${credential.token}`;
      const response = await fetch(`${base}/v1/tokens`, { method: 'POST', headers, body: JSON.stringify({ scopes: ['read', 'write'], ...body }) });
      assert.equal(response.status, 201, await response.clone().text());
      return await response.json() as TokenView;
    };

    it('a sign-in whose ID token names a password and a one-time code opens a session with MFA, and says why in its event', async () => {
      await signIn('p-mona');
      assert.deepEqual(await sessionMfa('mona'), [true]);
      const [event] = await rawRows<{ canonical: string }>(store.db, sql`SELECT canonical FROM audit_events
        WHERE action = 'session.created' AND identity_id = ${await s.world.id('mona')}`);
      assert.match(event!.canonical, /"amr":\["pwd","otp"\]/);
      assert.match(event!.canonical, /"mfaBasis":"amr:factors"/);
      assert.match(event!.canonical, /"mfa":true/);
    });

    it('a password-only sign-in opens a session without MFA; /v1/me tells each person which they have', async () => {
      const session = await signIn('p-pete');
      assert.deepEqual(await sessionMfa('pete'), [false]);
      const me = async (secret: string) => (await (await fetch(`${base}/v1/me`, { headers: { cookie: `tenure_session=${secret}` } })).json() as { mfa: boolean }).mfa;
      assert.equal(await me(session), false);
      assert.equal(await me(await signIn('p-mona')), true);
    });

    it('an acr the deployment names in TENURE_OIDC_MFA_ACR is MFA; any other acr with a single factor is not', async () => {
      await signIn('p-alba');
      assert.deepEqual(await sessionMfa('alba'), [true]);
      await signIn('p-otto');
      assert.deepEqual(await sessionMfa('otto'), [false]);
    });

    it('a token a person mints from an MFA session carries MFA, and so do the tokens it mints for her; the list shows it', async () => {
      const session = await signIn('p-mona');
      const root = await mint({ session }, { name: 'laptop' });
      assert.equal(root.mfa, true);
      const child = await mint({ token: root.secret }, { name: 'script', scopes: ['read'] });
      assert.equal(child.mfa, true);
      const listed = await (await fetch(`${base}/v1/tokens`, { headers: { authorization: `Bearer ${root.secret}` } })).json() as { items: TokenView[] };
      assert.deepEqual(listed.items.filter((t) => t.id === root.id || t.id === child.id).map((t) => t.mfa), [true, true]);
      const [event] = await rawRows<{ canonical: string }>(store.db, sql`SELECT canonical FROM audit_events
        WHERE action = 'token.created' AND subject_id = ${root.id}`);
      assert.match(event!.canonical, /"mfa":true/);
    });

    it('a token minted from a session without MFA carries none, nor does any token it mints', async () => {
      const session = await signIn('p-pete');
      const root = await mint({ session }, { name: 'laptop' });
      const child = await mint({ token: root.secret }, { name: 'script', scopes: ['read'] });
      assert.deepEqual([root.mfa, child.mfa], [false, false]);
    });

    it('attacker: an owner signed in with MFA mints a token for her service account, and it carries no MFA, by session or by token', async () => {
      const session = await signIn('p-mona');
      const bySession = await mint({ session }, { name: 'nightly', identity: 'monabot' });
      const own = await mint({ session }, { name: 'laptop' });
      const byToken = await mint({ token: own.secret }, { name: 'nightly-2', identity: 'monabot', scopes: ['read'] });
      assert.deepEqual([bySession.identity, bySession.mfa, byToken.mfa], ['monabot', false, false]);
      const child = await mint({ token: bySession.secret }, { name: 'child', scopes: ['read'] });
      assert.equal(child.mfa, false, 'the service account\'s own children do not pick it up either');
    });

    it('attacker: a request cannot claim MFA for the token it mints, and a local-CLI token has none', async () => {
      const session = await signIn('p-pete');
      const headers = { 'content-type': 'application/json', origin: base, cookie: `tenure_session=${session}` };
      const claimed = await fetch(`${base}/v1/tokens`, { method: 'POST', headers, body: JSON.stringify({ name: 'x', mfa: true }) });
      assert.equal(claimed.status, 400, 'mfa is not an input');
      const local = await createToken(await s.world.as('mona'), { name: 'cli' });
      const [row] = await store.db.select({ mfa: apiTokens.mfa }).from(apiTokens).where(eq(apiTokens.id, local.id));
      assert.deepEqual([local.mfa, row?.mfa], [false, false]);
    });
  });
}
