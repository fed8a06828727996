import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { loadPgProxyConfig } from '../src/proxy/postgres/config.js';
import { PgProxyServer } from '../src/proxy/postgres/server.js';
import type { Store } from '../src/store/database.js';
import { freshStore } from './support/backends.js';
import { provisionedGrant, psql, startProxyTarget, startProxyWorld, tokenOf, type ProxyTarget, type ProxyWorld } from './support/pg-proxy-world.js';
import { startTlsPostgres, type TlsCluster } from './support/tls-postgres.js';

/**
 * Issue 18: "the person cannot go around the proxy". The target is set up as docs/sessions.md says:
 * TLS only, and managed roles sign in only with a client certificate of the proxy's CA. The proxy
 * gets in with it; the person, who holds no such certificate, does not, with or without TLS. The
 * embedded store only: what is tested is the target's side, the same for either store.
 */
describe('the PostgreSQL proxy in front of a target that trusts only the proxy\'s certificate', () => {
  let cluster: TlsCluster;
  let target: ProxyTarget;
  let store: Store;
  let p: ProxyWorld;
  let token: string;
  const upstreamVar = `TENURE_TEST_PROXY_UPSTREAM_${process.pid}`;
  before(async () => {
    cluster = await startTlsPostgres();
    target = await startProxyTarget(cluster.adminUrl);
    const tls = new URLSearchParams({ sslmode: 'verify-full', sslrootcert: cluster.rootCert, sslcert: cluster.proxyCert, sslkey: cluster.proxyKey });
    process.env[upstreamVar] = `postgres://127.0.0.1:${cluster.port}/postgres?${tls.toString()}`;
    store = await freshStore('embedded');
    p = await startProxyWorld(store, target, { upstreamVar });
    token = await tokenOf(p.world, 'carl');
    await provisionedGrant(p.world);
  });
  after(async () => {
    await p?.stop();
    await store?.close();
    await target?.drop();
    await cluster?.stop();
    delete process.env[upstreamVar];
  });

  it('lets carl in through the proxy, which signs in to the target over TLS with its certificate', async () => {
    // The target admits this role only over TLS with a certificate of the proxy's CA (next test): signing in proves both.
    const out = await psql(p.port, 'carl', 'payments/read', token, 'SELECT current_user, session_user');
    assert.equal(out, `${target.roles.read}|${target.prefix}carl\n`);
  });

  it('takes TLS from clients when given a certificate, and then refuses a client that does not use it', async () => {
    const secured = await PgProxyServer.start({
      ctx: { store, clock: p.world.clock, actor: { id: undefined, channel: 'system' } }, decision: p.decision,
      config: { ...loadPgProxyConfig({}), tlsCert: cluster.serverCert, tlsKey: cluster.serverKey }, host: '127.0.0.1', port: 0,
    });
    try {
      const port = secured.address().port;
      // verify-full: psql checks the proxy's certificate against the CA and its name, so the token travels encrypted.
      const out = await psql(port, 'carl', `payments/read sslmode=verify-full sslrootcert=${cluster.rootCert}`, token, 'SELECT current_user');
      assert.equal(out, `${target.roles.read}\n`);
      await assert.rejects(psql(port, 'carl', 'payments/read sslmode=disable', token, 'SELECT 1'), /accepts TLS connections only/);
    } finally {
      await secured.stop();
    }
  });

  it('refuses carl going around the proxy as his own login role, with TLS and without', async () => {
    const direct = (sslmode: string) => psql(cluster.port, `${target.prefix}carl`, `postgres sslmode=${sslmode}`, '', 'SELECT 1');
    await assert.rejects(direct('require'), /certificate/);
    await assert.rejects(direct('disable'), /pg_hba\.conf rejects connection/);
  });
});
