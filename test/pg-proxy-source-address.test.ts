import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { parse, stringify } from 'yaml';
import type { Store } from '../src/store/database.js';
import { BACKENDS, freshStore } from './support/backends.js';
import {
  allEnded, provisionedGrant, psql, sessionsOf, startProxyTarget, startProxyWorld, tokenOf, type ProxyTarget, type ProxyWorld,
} from './support/pg-proxy-world.js';
import { applyPolicyText, provisioningPolicy, type PgTarget } from './support/provisioning-world.js';

/**
 * Issue 18: the proxy asks the decision point with the address the client's connection comes from,
 * which it sees itself, so an entitlement's source_cidrs hold through it (before, the proxy asked
 * without one and such an entitlement was refused to everyone). The clients here connect over loopback.
 */
let target: ProxyTarget;
before(async () => { target = await startProxyTarget(); });
after(async () => { await target?.drop(); });

const LOOPBACK = ['127.0.0.0/8', '::1/128'];
const ELSEWHERE = ['10.0.0.0/8'];

/** The proxy's policy, with payments/read allowed from `cidrs`. */
const applySources = async (p: ProxyWorld, cidrs: string[]) => {
  const connector = { type: 'postgres-roles', url: `env:${target.urlVar}`, role_prefix: target.prefix, proxy: { parameters: 'redact' } };
  const doc = parse(provisioningPolicy({ ...target, deadVar: target.urlVar } as unknown as PgTarget, { connector })) as {
    systems: { payments: { entitlements: { read: { conditions?: unknown } } } };
  };
  doc.systems.payments.entitlements.read.conditions = { source_cidrs: cidrs };
  await applyPolicyText(p.world, stringify(doc));
  await p.decision.sync();
};

for (const backend of BACKENDS) {
  describe(`source addresses through the PostgreSQL proxy (${backend})`, () => {
    let store: Store;
    let p: ProxyWorld;
    let token: string;

    before(async () => {
      store = await freshStore(backend);
      p = await startProxyWorld(store, target);
      await provisionedGrant(p.world);
      token = await tokenOf(p.world, 'carl');
    });
    after(async () => {
      await p?.stop();
      await store?.close();
      await target.admin((c) => c.query(`DROP OWNED BY ${target.prefix}carl`).catch(() => undefined));
    });

    it('carl is let in with psql from an address payments/read allows', async () => {
      await applySources(p, LOOPBACK);
      assert.equal(await psql(p.port, 'carl', 'payments/read', token, 'SELECT count(*) FROM ledger'), '3\n');
    });

    it('from an address it does not allow he is refused, the FATAL naming the condition, and no session is recorded', async () => {
      await applySources(p, ELSEWHERE);
      const before = (await sessionsOf(store)).length;
      await assert.rejects(psql(p.port, 'carl', 'payments/read', token, 'SELECT 1'), (error: Error) => {
        assert.match(error.message, /FATAL/);
        assert.match(error.message, /carl may not use payments\/read now \(condition_source_not_allowed\)/);
        return true;
      });
      assert.equal((await sessionsOf(store)).length, before);
    });

    it('attacker: what the client says of itself (application name, options) does not change the address asked about', async () => {
      const claiming = new pg.Client({ host: '127.0.0.1', port: p.port, user: 'carl', password: token, database: 'payments/read',
        application_name: '10.1.2.3', options: '-c tenure.source_address=10.1.2.3' });
      await assert.rejects(claiming.connect(), /condition_source_not_allowed/);
    });

    it('when the policy stops allowing his address, the watcher ends his open session', async () => {
      await applySources(p, LOOPBACK);
      const client = new pg.Client({ host: '127.0.0.1', port: p.port, user: 'carl', password: token, database: 'payments/read' });
      client.on('error', () => undefined);
      await client.connect();
      const known = new Set((await sessionsOf(store)).filter((s) => s.ended_at !== null).map((s) => s.id));
      const ended = new Promise<void>((resolve) => client.once('end', () => resolve()));
      await applySources(p, ELSEWHERE);
      await ended;
      const fresh = (await allEnded(store)).filter((s) => !known.has(s.id));
      assert.deepEqual(fresh.map((s) => s.end_reason), ['access_denied']);
    });
  });
}
