import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { createRequest } from '../src/operations/create-request.js';
import { runLifecycleTick } from '../src/jobs/lifecycle.js';
import { DecisionService } from '../src/decision/service.js';
import { loadMetricsConfig } from '../src/metrics/config.js';
import { scrape, startMetricsServer, type MetricsServer } from '../src/metrics/server.js';
import type { Store } from '../src/store/database.js';
import { BACKENDS, freshStore } from './support/backends.js';
import { seedDueGrants } from './support/flows.js';
import { withService } from './support/service.js';
import { buildWorld, type World } from './support/world.js';

/** The value of one sample of a scrape, by its name and labels as written (`name{a="b"}`), or undefined. */
const sample = (text: string, series: string): number | undefined => {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
};

const TOKEN = 'metrics-token-of-at-least-32-characters';

describe('where metrics are served, from the environment', () => {
  it('serves no metrics unless an address is given', () => {
    assert.equal(loadMetricsConfig({}), undefined);
  });

  it('takes a loopback address without a token, IPv6 in brackets too', () => {
    assert.deepEqual(loadMetricsConfig({ TENURE_METRICS_ADDRESS: '127.0.0.1:9464' }), { host: '127.0.0.1', port: 9464, token: undefined });
    assert.deepEqual(loadMetricsConfig({ TENURE_METRICS_ADDRESS: '[::1]:9464' }), { host: '::1', port: 9464, token: undefined });
  });

  it('refuses an address other machines can reach unless a token guards it', () => {
    assert.throws(() => loadMetricsConfig({ TENURE_METRICS_ADDRESS: '0.0.0.0:9464' }), /reachable from other machines/);
    assert.equal(loadMetricsConfig({ TENURE_METRICS_ADDRESS: '0.0.0.0:9464', TENURE_METRICS_TOKEN: TOKEN })?.token, TOKEN);
  });

  it('refuses a short token without repeating it, a token without an address, and an address without a port', () => {
    assert.throws(() => loadMetricsConfig({ TENURE_METRICS_ADDRESS: '127.0.0.1:9464', TENURE_METRICS_TOKEN: 'short-secret' }),
      (e: Error) => /at least 32/.test(e.message) && !e.message.includes('short-secret'));
    assert.throws(() => loadMetricsConfig({ TENURE_METRICS_TOKEN: TOKEN }), /TENURE_METRICS_ADDRESS is not/);
    assert.throws(() => loadMetricsConfig({ TENURE_METRICS_ADDRESS: '127.0.0.1' }), /host:port/);
  });
});

for (const backend of BACKENDS) {
  describe(`metrics read from the database at scrape time (${backend})`, () => {
    let store: Store;
    let w: World;
    before(async () => {
      store = await freshStore(backend);
      w = await buildWorld(store);
    });
    after(async () => { await store.close(); });

    it('counts removals due but not yet confirmed by system, with the age of the oldest since the grant ended', async () => {
      await seedDueGrants(store.db, w, 3);
      await runLifecycleTick(w.worker);
      w.clock.advance(10 * 60_000);
      const { body } = await scrape({ store, clock: w.clock });
      assert.equal(sample(body, 'tenure_removals_unconfirmed{system="payments"}'), 3);
      // Seeded to end a minute before the tick, read ten minutes after it.
      assert.equal(sample(body, 'tenure_removal_oldest_unconfirmed_seconds{system="payments"}'), 11 * 60);
      assert.equal(sample(body, 'tenure_provisioning_jobs{state="queued",action="deprovision"}'), 3);
      assert.equal(sample(body, 'tenure_metrics_database_up'), 1);
    });

    it('counts pending requests by the stage they wait on, with the age of the oldest', async () => {
      await createRequest(await w.as('carl'), { entitlement: 'payments/read', justification: 'monthly report', duration: '7d' });
      w.clock.advance(3_600_000);
      const { body } = await scrape({ store, clock: w.clock });
      assert.equal(sample(body, 'tenure_requests_pending{stage="sponsor"}'), 1);
      assert.equal(sample(body, 'tenure_approval_oldest_pending_seconds{stage="sponsor"}'), 3600);
      assert.equal(sample(body, 'tenure_webhook_backlog'), 0);
    });

    it('reports this process\'s decision index, stale or not, when it runs one', async () => {
      const { body } = await scrape({ store, clock: w.clock, decision: () => ({ stale: true, lastRefreshAt: new Date(w.clock.now().getTime() - 7000) }) });
      assert.equal(sample(body, 'tenure_decision_index_stale'), 1);
      assert.equal(sample(body, 'tenure_decision_index_age_seconds'), 7);
    });
  });
}

describe('the metrics listener', () => {
  let store: Store;
  let server: MetricsServer;
  before(async () => {
    store = await freshStore('embedded');
    const w = await buildWorld(store);
    server = await startMetricsServer({ host: '127.0.0.1', port: 0, token: TOKEN }, { store, clock: w.clock });
  });
  after(async () => { await server.close(); await store.close(); });

  it('refuses a scrape without the token, or with another, and answers one with it', async () => {
    assert.equal((await fetch(server.url)).status, 401);
    assert.equal((await fetch(server.url, { headers: { authorization: `Bearer ${TOKEN}x` } })).status, 401);
    const ok = await fetch(server.url, { headers: { authorization: `Bearer ${TOKEN}` } });
    assert.equal(ok.status, 200);
    assert.match(ok.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
    assert.match(await ok.text(), /^tenure_metrics_database_up 1$/m);
  });

  it('serves nothing but /metrics', async () => {
    const other = await fetch(server.url.replace('/metrics', '/v1/identities'), { headers: { authorization: `Bearer ${TOKEN}` } });
    assert.equal(other.status, 404);
  });
});

describe('HTTP requests and decision-point answers in this process', () => {
  it('counts requests by route template, so an id in the path never becomes a series of its own', async () => {
    await withService(async (s) => {
      const id = randomUUID();
      await s.call('GET', `/v1/identities/${id}`, { as: 'ada' });
      await s.call('GET', `/no-such-path-${id}`, { as: 'ada' });
      const { body } = await scrape({ store: s.world.store, clock: s.world.clock });
      assert.match(body, /^tenure_http_requests_total{method="GET",route="\/v1\/identities\/:identity",status="404"} [1-9]/m);
      assert.deepEqual(body.split('\n').filter((l) => l.includes(id)), [], 'no raw URL in any label');
    });
  });

  it('counts decision-point answers by decision and reason, and times each', async () => {
    const store = await freshStore('embedded');
    const w = await buildWorld(store);
    const decisions = await DecisionService.start({ store, clock: w.clock, poll: false });
    try {
      const earlier = await scrape({ store, clock: w.clock });
      const denied = 'tenure_decisions_total{decision="deny",reason="no_grant"}';
      decisions.check({ identity: 'carl', entitlement: 'payments/read' });
      decisions.check({ identity: 'carl', entitlement: 'payments/read' });
      const { body } = await scrape({ store, clock: w.clock });
      assert.equal((sample(body, denied) ?? 0) - (sample(earlier.body, denied) ?? 0), 2);
      assert.equal((sample(body, 'tenure_decision_duration_seconds_count') ?? 0) - (sample(earlier.body, 'tenure_decision_duration_seconds_count') ?? 0), 2);
    } finally {
      await decisions.stop();
      await store.close();
    }
  });
});

describe('docs/metrics.md', () => {
  it('lists every metric a scrape serves', async () => {
    const docs = readFileSync(fileURLToPath(new URL('../docs/metrics.md', import.meta.url)), 'utf8');
    const store = await freshStore('embedded');
    try {
      const w = await buildWorld(store);
      const { body } = await scrape({ store, clock: w.clock, decision: () => ({ stale: false, lastRefreshAt: w.clock.now() }) });
      const served = [...body.matchAll(/^# TYPE (\S+) /gm)].map((m) => m[1]!);
      assert.ok(served.length >= 19, served.join(', '));
      assert.deepEqual(served.filter((name) => !docs.includes(`\`${name}\``)), []);
    } finally {
      await store.close();
    }
  });
});
