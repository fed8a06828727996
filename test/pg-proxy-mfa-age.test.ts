import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { sql } from 'drizzle-orm';
import pg from 'pg';
import { parse, stringify } from 'yaml';
import { createToken } from '../src/operations/create-token.js';
import { authenticateToken } from '../src/operations/lib/credentials/principal.js';
import { rawRows, type Store } from '../src/store/database.js';
import { BACKENDS, freshStore } from './support/backends.js';
import {
  allEnded, provisionedGrant, psql, sessionsOf, startProxyTarget, startProxyWorld, type ProxyTarget, type ProxyWorld,
} from './support/pg-proxy-world.js';
import { applyPolicyText, provisioningPolicy, type PgTarget } from './support/provisioning-world.js';

/**
 * Issue 18: an entitlement may say how recent the MFA behind an attempt must be (`mfa_max_age`).
 * The PostgreSQL proxy presents the token's MFA time, which is its holder's sign-in's: a token
 * minted from an MFA sign-in long ago no longer counts, and an open session is ended once its MFA
 * grows too old. payments/read requires MFA at most an hour old here.
 */
let target: ProxyTarget;
before(async () => { target = await startProxyTarget(); });
after(async () => { await target?.drop(); });

const MINUTE = 60_000;
const TOO_OLD = /payments\/read requires a recent MFA, and this token's is older than the policy allows.*condition_mfa_too_old/;

const applyConditions = async (p: ProxyWorld, conditions: Record<string, unknown>) => {
  const connector = { type: 'postgres-roles', url: `env:${target.urlVar}`, role_prefix: target.prefix, proxy: { parameters: 'redact' } };
  const doc = parse(provisioningPolicy({ ...target, deadVar: target.urlVar } as unknown as PgTarget, { connector })) as {
    systems: { payments: { entitlements: { read: { conditions?: unknown } } } };
  };
  doc.systems.payments.entitlements.read.conditions = conditions;
  await applyPolicyText(p.world, stringify(doc));
  await p.decision.sync();
};

for (const backend of BACKENDS) {
  describe(`a maximum MFA age through the PostgreSQL proxy (${backend})`, () => {
    let store: Store;
    let p: ProxyWorld;

    /** A token carl mints from a web session whose MFA sign-in was at `mfaAt` (finish-sign-in records it so). */
    const tokenFromSignIn = async (mfaAt: Date, name: string) => {
      const ctx = await p.world.as('carl');
      return createToken({ ...ctx, actor: { id: ctx.actor.id, channel: 'web', mfa: true, mfaAt } }, { name, scopes: ['read'] });
    };
    const connect = async (password: string) => {
      const client = new pg.Client({ host: '127.0.0.1', port: p.port, user: 'carl', password, database: 'payments/read' });
      client.on('error', () => undefined);
      await client.connect();
      return client;
    };

    before(async () => {
      store = await freshStore(backend);
      p = await startProxyWorld(store, target);
      await provisionedGrant(p.world);
      await applyConditions(p, { mfa_max_age: '1h' });
    });
    after(async () => {
      await p?.stop();
      await store?.close();
      await target.admin((c) => c.query(`DROP OWNED BY ${target.prefix}carl`).catch(() => undefined));
    });

    it('a token whose MFA is 59 minutes old is let in; at 61 minutes he is refused, the FATAL naming the age, and no session is recorded', async () => {
      const token = await tokenFromSignIn(p.world.clock.now(), 'aging');
      assert.deepEqual(token.mfaAt, p.world.clock.now());
      p.world.clock.advance(59 * MINUTE);
      assert.equal(await psql(p.port, 'carl', 'payments/read', token.secret, 'SELECT count(*) FROM ledger'), '3\n');
      p.world.clock.advance(2 * MINUTE);
      const sessions = (await sessionsOf(store)).length;
      await assert.rejects(psql(p.port, 'carl', 'payments/read', token.secret, 'SELECT 1'), (error: Error) => {
        assert.match(error.message, /FATAL/);
        assert.match(error.message, TOO_OLD);
        return true;
      });
      assert.equal((await sessionsOf(store)).length, sessions);
    });

    it('attacker: minting does not refresh MFA; a child of the aged token carries its sign-in\'s time and is refused too', async () => {
      const signedIn = new Date(p.world.clock.now().getTime() - 2 * 60 * MINUTE);
      const aged = await tokenFromSignIn(signedIn, 'aged');
      const ctx = await p.world.as('carl');
      const tokenId = (await authenticateToken(store, aged.secret, p.world.clock.now())).tokenId!;
      const child = await createToken({ ...ctx, actor: { ...ctx.actor, channel: 'api', tokenId, mfa: true, mfaAt: p.world.clock.now() } },
        { name: 'child-of-aged', scopes: ['read'] });
      assert.equal(child.mfa, true);
      assert.deepEqual(child.mfaAt, signedIn, 'the parent\'s time, not the time the caller claims');
      await assert.rejects(psql(p.port, 'carl', 'payments/read', child.secret, 'SELECT 1'), TOO_OLD);
    });

    it('the watcher ends an open session once its MFA passes the maximum age, telling the client why', async () => {
      const token = await tokenFromSignIn(p.world.clock.now(), 'session');
      const known = new Set((await sessionsOf(store)).map((s) => s.id));
      const client = await connect(token.secret);
      const told = new Promise<Error>((resolve) => client.once('error', resolve));
      assert.deepEqual((await client.query<{ n: number }>('SELECT 1 AS n')).rows, [{ n: 1 }]);
      p.world.clock.advance(61 * MINUTE);
      assert.match((await told).message, /access is no longer allowed \(condition_mfa_too_old\)/);
      const fresh = (await allEnded(store)).filter((s) => !known.has(s.id));
      assert.deepEqual(fresh.map((s) => s.end_reason), ['access_denied']);
    });

    it('a token from before MFA times were kept (its time unknown) is refused where an age is required, let in where MFA alone is', async () => {
      const token = await tokenFromSignIn(p.world.clock.now(), 'legacy');
      await rawRows(store.db, sql`UPDATE api_tokens SET mfa_at = NULL WHERE id = ${token.id}`);
      await assert.rejects(psql(p.port, 'carl', 'payments/read', token.secret, 'SELECT 1'), TOO_OLD);
      await applyConditions(p, { mfa: true });
      assert.equal(await psql(p.port, 'carl', 'payments/read', token.secret, 'SELECT 1'), '1\n');
      await applyConditions(p, { mfa_max_age: '1h' });
    });
  });
}
