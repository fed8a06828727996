import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { eq } from 'drizzle-orm';
import type { FastifyInstance } from 'fastify';
import pg from 'pg';
import { parse, stringify } from 'yaml';
import { runProvisioningPass } from '../src/jobs/provisioning/index.js';
import { loadHttpConfig } from '../src/config.js';
import { buildApp } from '../src/http/app.js';
import { createToken } from '../src/operations/create-token.js';
import { authenticateToken } from '../src/operations/lib/credentials/principal.js';
import type { Store } from '../src/store/database.js';
import { identities } from '../src/store/schema.js';
import { refusedWith } from './support/assert.js';
import { BACKENDS, freshStore } from './support/backends.js';
import { grantThrough } from './support/flows.js';
import { Browser, freePort, passProvider, startOidcProvider, type ProviderAccount, type TestProvider } from './support/oidc-provider.js';
import {
  allEnded, provisionedGrant, psql, sessionsOf, startProxyTarget, startProxyWorld, tokenOf, type ProxyTarget, type ProxyWorld,
} from './support/pg-proxy-world.js';
import { applyPolicyText, provisioningPolicy, type PgTarget } from './support/provisioning-world.js';

/**
 * Issue 18: the proxy asks the decision point with the MFA it knows itself (the token's, which is
 * its holder's own sign-in's), never with what the client says. payments/read requires MFA here.
 */
let target: ProxyTarget;
before(async () => { target = await startProxyTarget(); });
after(async () => { await target?.drop(); });

const MFA_REFUSAL = /payments\/read requires MFA, and this token does not carry it/;

/** The proxy's policy, with payments/read on these conditions. */
const applyConditions = async (p: ProxyWorld, conditions: Record<string, unknown> | undefined) => {
  const connector = { type: 'postgres-roles', url: `env:${target.urlVar}`, role_prefix: target.prefix, proxy: { parameters: 'redact' } };
  const doc = parse(provisioningPolicy({ ...target, deadVar: target.urlVar } as unknown as PgTarget, { connector })) as {
    systems: { payments: { entitlements: { read: { conditions?: unknown } } } };
  };
  if (conditions) doc.systems.payments.entitlements.read.conditions = conditions;
  await applyPolicyText(p.world, stringify(doc));
  // The proxy's decision point learns of a policy by its poll (1 s, no LISTEN here); the tests sign in right after.
  await p.decision.sync();
};

/** The proxy's policy, with payments/read requiring MFA or not. */
const applyMfaPolicy = (p: ProxyWorld, required: boolean) => applyConditions(p, required ? { mfa: true } : undefined);

for (const backend of BACKENDS) {
  describe(`MFA through the PostgreSQL proxy (${backend})`, () => {
    let store: Store;
    let p: ProxyWorld;
    let plain: string;
    let withMfa: string;

    /** A token minted as a web session whose sign-in used MFA mints it (finish-sign-in opens such sessions). */
    const mfaTokenOf = async (handle: string, identity?: string) => {
      const ctx = await p.world.as(handle);
      return createToken({ ...ctx, actor: { id: ctx.actor.id, channel: 'web', mfa: true } },
        { name: `mfa-${handle}-${identity ?? 'self'}`, scopes: ['read'], ...(identity ? { identity } : {}) });
    };

    /** The token's id, as the API layer would put it on the actor of a request made with it. */
    const tokenIdOf = async (secret: string) => (await authenticateToken(store, secret, p.world.clock.now())).tokenId!;

    before(async () => {
      store = await freshStore(backend);
      p = await startProxyWorld(store, target);
      await provisionedGrant(p.world);
      await applyMfaPolicy(p, true);
      plain = await tokenOf(p.world, 'carl');
      withMfa = (await mfaTokenOf('carl')).secret;
    });
    after(async () => {
      await p?.stop();
      await store?.close();
      await target.admin((c) => c.query(`DROP OWNED BY ${target.prefix}carl; DROP OWNED BY ${target.prefix}bot`).catch(() => undefined));
    });

    it('carl\'s token minted from his MFA sign-in is let in with psql where payments/read requires MFA', async () => {
      assert.equal(await psql(p.port, 'carl', 'payments/read', withMfa, 'SELECT count(*) FROM ledger'), '3\n');
    });

    it('his token without MFA is refused, the FATAL naming the MFA requirement, and no session is recorded', async () => {
      const before = (await sessionsOf(store)).length;
      await assert.rejects(psql(p.port, 'carl', 'payments/read', plain, 'SELECT 1'), (error: Error) => {
        assert.match(error.message, /FATAL/);
        assert.match(error.message, MFA_REFUSAL);
        return true;
      });
      assert.equal((await sessionsOf(store)).length, before);
    });

    it('MFA is the token\'s, not the person\'s nor the client\'s: a child of the plain token, or a client claiming MFA, is refused', async () => {
      const ctx = await p.world.as('carl');
      const child = await createToken({ ...ctx, actor: { ...ctx.actor, channel: 'api', tokenId: await tokenIdOf(plain) } },
        { name: 'child-of-plain', scopes: ['read'] });
      assert.equal(child.mfa, false);
      await assert.rejects(psql(p.port, 'carl', 'payments/read', child.secret, 'SELECT 1'), MFA_REFUSAL);
      const claiming = new pg.Client({ host: '127.0.0.1', port: p.port, user: 'carl', password: plain, database: 'payments/read',
        application_name: 'mfa=true', options: '-c tenure.mfa=true' });
      await assert.rejects(claiming.connect(), MFA_REFUSAL);
      const mfaChild = await createToken({ ...ctx, actor: { ...ctx.actor, channel: 'api', tokenId: await tokenIdOf(withMfa) } },
        { name: 'child-of-mfa', scopes: ['read'] });
      assert.equal(await psql(p.port, 'carl', 'payments/read', mfaChild.secret, 'SELECT 1'), '1\n', 'a child of the MFA token keeps it');
    });

    it('attacker: an owner or an administrator signed in with MFA mints a token for a service account, and the account is still refused', async () => {
      await grantThrough(p.world, 'ivan', { beneficiary: 'bot', entitlement: 'payments/read', justification: 'exports', duration: '60d' }, ['selma', 'olivia']);
      await runProvisioningPass(p.world.worker);
      for (const minter of ['tom', 'ada']) {
        const minted = await mfaTokenOf(minter, 'bot');
        assert.equal(minted.mfa, false, `minted by ${minter}`);
        await assert.rejects(psql(p.port, 'bot', 'payments/read', minted.secret, 'SELECT 1'), MFA_REFUSAL);
      }
      await refusedWith(createToken({ ...(await p.world.as('ada')), actor: { id: await p.world.id('ada'), channel: 'web', mfa: true } },
        { name: 'as carl', identity: 'carl' }), 'token.person_only_self', 'identity');
    });

    it('when the policy starts requiring MFA, the watcher ends the open session without it and keeps the one with it', async () => {
      await applyMfaPolicy(p, false);
      await p.decision.sync();
      const open = async (password: string) => {
        const client = new pg.Client({ host: '127.0.0.1', port: p.port, user: 'carl', password, database: 'payments/read' });
        client.on('error', () => undefined);
        await client.connect();
        return client;
      };
      const [mfaClient, plainClient] = [await open(withMfa), await open(plain)];
      const known = new Set((await sessionsOf(store)).filter((s) => s.ended_at !== null).map((s) => s.id));
      const ended = new Promise<void>((resolve) => plainClient.once('end', () => resolve()));
      await applyMfaPolicy(p, true);
      await ended;
      // Two watch passes (200 ms each) after the one that ended the plain session: the MFA one was reviewed and kept.
      await new Promise((resolve) => setTimeout(resolve, 600));
      assert.deepEqual((await mfaClient.query<{ n: number }>('SELECT 1 AS n')).rows, [{ n: 1 }]);
      await mfaClient.end();
      const fresh = (await allEnded(store)).filter((s) => !known.has(s.id));
      assert.deepEqual(fresh.map((s) => s.end_reason).sort(), ['access_denied', 'client_closed']);
    });
  });
}

describe('end to end: a sign-in with MFA at a real OpenID provider, a token from that session, psql through the proxy', () => {
  let store: Store;
  let p: ProxyWorld;
  let app: FastifyInstance;
  let provider: TestProvider;
  let base: string;
  /** Carl's account at the provider: how he signs in (amr) changes between the two sign-ins. */
  const account: ProviderAccount = { sub: 'p-carl', email: 'carl@example.test', emailVerified: true };

  before(async () => {
    store = await freshStore('postgres');
    p = await startProxyWorld(store, target);
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    provider = await startOidcProvider({ redirectUri: `${base}/auth/callback`, accounts: [account] });
    app = await buildApp({ store, clock: p.world.clock, http: loadHttpConfig({
      TENURE_PUBLIC_URL: base, TENURE_OIDC_ISSUER: provider.issuer, TENURE_OIDC_ALLOW_HTTP: '1',
      TENURE_OIDC_CLIENT_ID: provider.clientId, TENURE_OIDC_CLIENT_SECRET: provider.clientSecret,
    }) });
    await app.listen({ port, host: '127.0.0.1' });
    await store.db.update(identities).set({ email: 'carl@example.test' }).where(eq(identities.handle, 'carl'));
    await provisionedGrant(p.world);
    await applyMfaPolicy(p, true);
  });
  after(async () => {
    await app?.close();
    await provider?.close();
    await p?.stop();
    await store?.close();
    await target.admin((c) => c.query(`DROP OWNED BY ${target.prefix}carl`).catch(() => undefined));
  });

  /** Signs in at the provider with the methods `amr` (at `authTime`), then mints a token from the session as the console would. */
  const tokenAfterSignIn = async (amr: string[], authTime?: Date): Promise<string> => {
    account.amr = amr;
    account.authTime = authTime?.getTime();
    const browser = new Browser();
    const landed = await browser.fetch(await passProvider(browser, `${base}/auth/login`, account.sub, `${base}/auth/callback`));
    assert.equal(landed.status, 302, await landed.text());
    const response = await fetch(`${base}/v1/tokens`, { method: 'POST', body: JSON.stringify({ name: amr.join('+'), scopes: ['read'] }),
      headers: { 'content-type': 'application/json', origin: base, cookie: `tenure_session=${browser.cookie(base, 'tenure_session')!}` } });
    assert.equal(response.status, 201, await response.clone().text());
    return (await response.json() as { secret: string }).secret;
  };

  it('the token from the sign-in with a hardware key is let in; the one from a password-only sign-in is refused', async () => {
    assert.equal(await psql(p.port, 'carl', 'payments/read', await tokenAfterSignIn(['pwd', 'hwk']), 'SELECT count(*) FROM ledger'), '3\n');
    await assert.rejects(psql(p.port, 'carl', 'payments/read', await tokenAfterSignIn(['pwd']), 'SELECT 1'), MFA_REFUSAL);
  });

  it('where payments/read wants MFA within an hour, a sign-in whose provider session authenticated two hours ago is refused; ten minutes ago, let in', async () => {
    await applyConditions(p, { mfa_max_age: '1h' });
    const ago = (minutes: number) => new Date(p.world.clock.now().getTime() - minutes * 60_000);
    await assert.rejects(psql(p.port, 'carl', 'payments/read', await tokenAfterSignIn(['pwd', 'hwk'], ago(120)), 'SELECT 1'), /condition_mfa_too_old/);
    assert.equal(await psql(p.port, 'carl', 'payments/read', await tokenAfterSignIn(['pwd', 'hwk'], ago(10)), 'SELECT 1'), '1\n');
    await applyMfaPolicy(p, true);
  });
});
