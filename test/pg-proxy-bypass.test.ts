import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { sql } from 'drizzle-orm';
import pg from 'pg';
import { runReconciliation } from '../src/operations/lib/provisioning/reconcile.js';
import { rawRows, type Store } from '../src/store/database.js';
import { BACKENDS } from './support/backends.js';
import {
  applyProxyPolicy, carlWithGrant, startProxyTarget, type CarlWithGrant, type ProxyTarget, type ProxyWorld,
} from './support/pg-proxy-world.js';

/**
 * Issue 18, "going around the proxy is seen": reconciliation reports a session of a managed login
 * role whose client address is not one of the proxies', and closes the finding once it is gone.
 */
let target: ProxyTarget;
before(async () => { target = await startProxyTarget(); });
after(async () => { await target?.drop(); });

for (const backend of BACKENDS) {
  describe(`sessions that go around the PostgreSQL proxy (${backend})`, () => {
    let store: Store;
    let p: ProxyWorld;
    let token: string;
    const open = async () => (await rawRows<{ summary: string; status: string }>(store.db,
      sql`SELECT summary, status FROM findings WHERE kind = 'session_outside_proxy' ORDER BY opened_at`));
    /** Waits until the target has no backend of carl left (a closed client's backend goes a moment later). */
    const gone = async () => {
      const left = () => target.admin((c) => c.query('SELECT 1 FROM pg_stat_activity WHERE usename = $1', [`${target.prefix}carl`]));
      while ((await left()).rowCount) await new Promise((resolve) => setTimeout(resolve, 20));
    };
    let world: CarlWithGrant;
    before(async () => { world = await carlWithGrant(backend, target); ({ store, p, token } = world); });
    after(async () => { await world?.stop(); });

    it('reports carl signed in directly as his login role, from an address that is not the proxy\'s, and closes it when he leaves', async () => {
      await applyProxyPolicy(p.world, target, 'redact', undefined, ['10.0.0.5']);
      const url = new URL(target.url);
      url.username = `${target.prefix}carl`;
      const direct = new pg.Client({ connectionString: url.toString() });
      await direct.connect();
      await runReconciliation(p.world.worker, 'payments');
      const [finding] = await open();
      assert.match(finding!.summary, new RegExp(`${target.prefix}carl has a session on payments from 127\\.0\\.0\\.1, not through Tenure's proxy`));
      await direct.end();
      await gone();
      p.world.clock.advance(60_000); // a later run: what it no longer sees is closed
      await runReconciliation(p.world.worker, 'payments');
      assert.deepEqual((await open()).map((f) => f.status), ['resolved']);
    });

    it('does not report a session that came through the proxy', async () => {
      await applyProxyPolicy(p.world, target, 'redact', undefined, ['127.0.0.1']);
      const through = new pg.Client({ host: '127.0.0.1', port: p.port, user: 'carl', password: token, database: 'payments/read' });
      await through.connect();
      p.world.clock.advance(60_000);
      await runReconciliation(p.world.worker, 'payments');
      await through.end();
      await gone();
      assert.deepEqual((await open()).map((f) => f.status), ['resolved']);
    });
  });
}
