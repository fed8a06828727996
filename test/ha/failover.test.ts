/**
 * Tenure keeps its promises while PostgreSQL fails over (issue 19): two `serve` (one through
 * PgBouncer) and one `worker` on HAProxy in front of three Patroni nodes in synchronous mode
 * (test/ha/cluster.ts), under client load (test/ha/load.ts: writes, requests and approvals, checks, a
 * revocation), with webhooks delivered and grants provisioned in a real target throughout, through a
 * planned switchover, a `kill -9` of the leader's postmaster and the leader frozen for 10 s. The
 * figures of each fault are printed as a test diagnostic.
 *
 * 120-200 s on a 2-core machine (bring-up about 11 s, each fault under 20 s, audit verify after each);
 * TENURE_TEST_HA=0 skips it.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it, type TestContext } from 'node:test';
import { sql } from 'drizzle-orm';
import { createToken } from '../../src/operations/create-token.js';
import { openPostgres, rawRows, type Store } from '../../src/store/database.js';
import { auditKeyEnv } from '../support/audit-key.js';
import { BACKENDS } from '../support/backends.js';
import { startTenure, TENURE_BIN, type TenureProcess } from '../support/tenure-process.js';
import { buildWorld } from '../support/world.js';
import { startHaCluster, type HaCluster } from './cluster.js';
import { revokeDuring, startLoad, unreadyStretch, writeDowntime, type FlowTokens, type LoadLog } from './load.js';
import { randomBytes } from 'node:crypto';
import { createIdentity } from '../../src/operations/create-identity.js';
import { createWebhook } from '../../src/operations/create-webhook.js';
import { loadWebhookKeyRing } from '../../src/webhooks/index.js';
import { startReceiver, type Receiver } from '../support/webhook-receiver.js';
import { startPgBouncer, type PgBouncer } from '../support/pgbouncer.js';
import type { World } from '../support/world.js';
import { applyPolicyText, provisioningPolicy, startPgTarget, type PgTarget } from '../support/provisioning-world.js';

const RUN = process.env.TENURE_TEST_HA !== '0';
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
/**
 * How long after a revocation is acknowledged the other server may still allow it: its LISTEN
 * connection, cut by the fault, comes back about a second after the new primary and re-reads the
 * feed first (docs/high-availability.md); three seconds leaves room for a loaded machine.
 */
const FEED_BACK_WITHIN_MS = 3_000;

/** Timeouts short enough that a lost primary is noticed in about a second (as in test/db-faults.test.ts). */
const FAST = {
  TENURE_DB_CONNECT_TIMEOUT_MS: '1500', TENURE_DB_STATEMENT_TIMEOUT_MS: '3000', TENURE_DB_QUERY_TIMEOUT_MS: '4000',
  TENURE_DB_IDLE_IN_TRANSACTION_TIMEOUT_MS: '5000', TENURE_DB_KEEPALIVE_MS: '1000', TENURE_DB_HEARTBEAT_MS: '500',
  TENURE_WRITES_PER_MINUTE: '1000000', TENURE_ACTOR: '', PORT: '0', TENURE_WORKER_INTERVAL_MS: '500',
  // A provisioning claim lost in the fault is taken over after 3 s rather than the default 15 s.
  TENURE_PROVISIONING_LEASE_MS: '3000',
  // Polling slowed to a crawl: another process's change can only arrive by LISTEN, which must come back.
  TENURE_DECISION_POLL_MS: '600000', TENURE_DECISION_STALE_MS: '1200000',
};

describe('Tenure while PostgreSQL fails over under Patroni', { skip: !RUN || !BACKENDS.includes('postgres'), timeout: 600_000 }, () => {
  let cluster: HaCluster;
  let store: Store;
  const processes: TenureProcess[] = [];
  let servers: string[] = [];
  let tokens: { writer: string; checker: string };
  /** API tokens of the requester and the two approvers of Carl's payments/read. */
  let people: Record<'carl' | 'eve' | 'sam' | 'olivia', string>;
  let env: NodeJS.ProcessEnv;
  let world: World;
  let receiver: Receiver;
  /** The payments system's real target: roles on a PostgreSQL cluster of its own, outside the failing one. */
  let target: PgTarget;
  /** PgBouncer (transaction pooling) in front of HAProxy, for the second server. */
  let bouncer: PgBouncer;
  const dataDir = mkdtempSync(join(tmpdir(), 'tenure-ha-data-'));
  const figures: Record<string, unknown>[] = [];

  before(async () => {
    const started = Date.now();
    cluster = await startHaCluster();
    const bringUpMs = Date.now() - started;
    const { default: pg } = await import('pg');
    const client = new pg.Client({ connectionString: cluster.url('postgres') });
    await client.connect();
    await client.query('CREATE DATABASE tenure_ha');
    await client.end();
    store = await openPostgres(cluster.url('tenure_ha'));
    world = await buildWorld(store, new Date());
    target = await startPgTarget();
    // No brake: the test's removals are few, and each must be carried out, not held for security.
    await applyPolicyText(world, provisioningPolicy(target, { brake: { share: 1, minimum: 1000 } }));
    // Webhooks go out from the worker through every fault: a delivery retried after one must carry the same body.
    receiver = await startReceiver();
    const webhookKey = randomBytes(32).toString('base64');
    await createWebhook(await world.as('ada'), { url: receiver.url, events: ['request.created', 'approval.needed', 'grant.activated', 'grant.expired'] },
      loadWebhookKeyRing({ env: { TENURE_WEBHOOK_KEY: webhookKey }, dataDir: '/nonexistent', create: false }));
    tokens = {
      writer: (await createToken(await world.as('ada'), { name: 'ha', scopes: ['read', 'write'] })).secret,
      checker: (await createToken(await world.as('ada'), { name: 'ha-check', scopes: ['check'] })).secret,
    };
    const own = async (handle: string) => (await createToken(await world.as(handle), { name: 'ha', scopes: ['read', 'write'] })).secret;
    people = { carl: await own('carl'), eve: await own('eve'), sam: await own('sam'), olivia: await own('olivia') };
    env = { ...auditKeyEnv(), ...FAST, DATABASE_URL: cluster.url('tenure_ha'), TENURE_DATA_DIR: dataDir, TENURE_WEBHOOK_KEY: webhookKey };
    // The first server on HAProxy directly; the second through PgBouncer, its change feed and migration lock on HAProxy.
    const haproxy = new URL(cluster.url('tenure_ha'));
    // Timeouts as docs/high-availability.md advises: a client waiting for a server connection, or a
    // server that does not answer, fails within seconds (Tenure answers 503, the client retries)
    // rather than after PgBouncer's defaults (120 s to wait, 15 s between logins).
    bouncer = await startPgBouncer({ host: haproxy.hostname, port: Number(haproxy.port), user: decodeURIComponent(haproxy.username) },
      ['query_wait_timeout = 10', 'server_connect_timeout = 3', 'server_login_retry = 1', 'query_timeout = 8', 'tcp_keepalive = 1',
        'tcp_keepidle = 1', 'tcp_keepintvl = 1', 'tcp_keepcnt = 3']);
    processes.push(await startTenure(['serve'], env, /serving (http:\/\/\S+)/));
    processes.push(await startTenure(['serve'], { ...env, DATABASE_URL: bouncer.via(cluster.url('tenure_ha')), TENURE_DIRECT_DATABASE_URL: cluster.url('tenure_ha') },
      /serving (http:\/\/\S+)/));
    processes.push(await startTenure(['worker'], env, /worker running/));
    servers = processes.slice(0, 2).map((p) => p.url);
    figures.push({ bringUpMs });
  });

  after(async () => {
    for (const p of processes) await p.stop();
    await store?.close();
    await cluster?.stop();
    await receiver?.close();
    await bouncer?.stop();
    await target?.stop();
    rmSync(dataDir, { recursive: true, force: true });
    console.log(`HA figures: ${JSON.stringify(figures)}`);
  });

  /** A read by the test itself, whose own pool also lost its connections in the fault: tried again, bounded. */
  const read = async <T>(query: ReturnType<typeof sql>): Promise<T[]> => {
    for (let attempt = 1; ; attempt += 1) {
      try { return await rawRows<T>(store.db, query); } catch (error) { if (attempt >= 20) throw error; }
      await sleep(300);
    }
  };

  /** One identity written through `server` with an Idempotency-Key, acknowledged: its id. */
  const writeOne = async (server: string, handle: string): Promise<string> => {
    const res = await fetch(`${server}/v1/identities`, { method: 'POST', body: JSON.stringify({ handle, displayName: handle, kind: 'employee', manager: 'sam' }),
      headers: { authorization: `Bearer ${tokens.writer}`, 'content-type': 'application/json', 'idempotency-key': `one-${handle}` } });
    const body = await res.json() as { id: string };
    assert.equal(res.status, 201, JSON.stringify(body));
    return body.id;
  };

  /** A person's payments/read (Carl's or Eve's: both wait on Sam, then Olivia), approved through `server` for `duration`: the grant's id and end. */
  const grantFor = async (server: string, who: 'carl' | 'eve', duration: string): Promise<{ id: string; endsAt: number }> => {
    const post = async (secret: string, path: string, body: unknown) => {
      const res = await fetch(`${server}${path}`, { method: 'POST', body: JSON.stringify(body), headers: { authorization: `Bearer ${secret}`, 'content-type': 'application/json' } });
      const json = await res.json() as Record<string, unknown>;
      assert.ok(res.ok, `${path}: ${res.status} ${JSON.stringify(json)}`);
      return json;
    };
    const request = await post(people[who], '/v1/requests', { entitlement: 'payments/read', justification: 'ends during the fault', duration });
    await post(people.sam, `/v1/requests/${String(request.id)}/approve`, {});
    const id = String((await post(people.olivia, `/v1/requests/${String(request.id)}/approve`, {})).grantId);
    const [row] = await read<{ ends_at: Date }>(sql`SELECT ends_at FROM grants WHERE id = ${id}`);
    return { id, endsAt: new Date(row!.ends_at).getTime() };
  };

  /** A change made through one server reaches the other's /v1/check by LISTEN (polling is off), within 5 s: how long it took, in ms. */
  const feedCarries = async (handle: string): Promise<number> => {
    await writeOne(servers[1]!, handle);
    const written = Date.now();
    const deadline = written + 5_000;
    for (;;) {
      const res = await fetch(`${servers[0]}/v1/check`, { method: 'POST', body: JSON.stringify({ identity: handle, entitlement: 'payments/read' }),
        headers: { authorization: `Bearer ${tokens.checker}`, 'content-type': 'application/json' } });
      const answer = await res.json() as { reason?: string };
      if (res.status === 200 && answer.reason !== 'unknown_identity') return Date.now() - written;
      if (Date.now() > deadline) assert.fail(`${handle}, written through the other server, never reached /v1/check: ${JSON.stringify(answer)}`);
      await sleep(50);
    }
  };

  /** `tenure audit verify` is ok, and the chain it verified reaches at least `seq` (the newest acknowledged write's event). */
  const auditVerifies = (seq: number) => {
    const result = spawnSync(process.execPath, [TENURE_BIN, '--as', 'audrey', '--json', 'audit', 'verify'], { env: { ...process.env, ...env }, encoding: 'utf8', timeout: 120_000 });
    assert.equal(result.status, 0, `${result.stdout}\n${result.stderr}`);
    // Seqs run 1, 2, 3... without gaps, so the events verified reach the head's seq.
    const verified = JSON.parse(result.stdout) as { ok: boolean; events: number };
    assert.ok(verified.ok && verified.events >= seq, `the chain verified (${verified.events} events) reaches the newest acknowledged write's event ${seq}`);
  };

  /** The audit seq of the newest acknowledged identity write and request flow step of the load. */
  const newestAcknowledged = async (log: LoadLog): Promise<number> => {
    const handles = [...log.writes.filter((w) => w.id).map((w) => w.handle), ...log.flows.filter((f) => f.grantId).map((f) => f.person)];
    const [row] = await read<{ seq: number | null }>(sql`SELECT max(e.seq)::int AS seq FROM audit_events e JOIN identities i ON e.identity_id = i.id
      WHERE i.handle = ANY(${sql.param(handles)}::text[])`);
    return row?.seq ?? 0;
  };

  /** The writes of `log` each acknowledged once and present once: lost and duplicated counted. */
  const countWrites = async (log: LoadLog) => {
    const acked = log.writes.filter((w) => w.id);
    const rows = await read<{ handle: string; n: number }>(sql`SELECT i.handle, count(e.*)::int AS n FROM identities i
      LEFT JOIN audit_events e ON e.subject_id = i.id::text AND e.action = 'identity.created' WHERE i.handle = ANY(${sql.param(log.writes.map((w) => w.handle))}::text[]) GROUP BY i.handle`);
    const present = new Map(rows.map((r) => [r.handle, r.n]));
    return {
      written: log.writes.length, acked: acked.length,
      lost: acked.filter((w) => !present.has(w.handle)).length,
      duplicated: rows.filter((r) => r.n > 1).length,
      refused: log.writes.filter((w) => w.refused).map((w) => `${w.handle}: ${w.refused}`),
      readBack: log.writes.filter((w) => w.readBack).length,
    };
  };

  /** People who each file a request during the fault (Sam manages them), with their own tokens and the approvers'. */
  const flowPeople = async (name: string, n = 16): Promise<FlowTokens> => {
    const ada = await world.as('ada');
    const list: FlowTokens['people'] = [];
    for (let i = 0; i < n; i += 1) {
      const handle = `flow-${name}-${i}`;
      await createIdentity(ada, { handle, displayName: handle, kind: 'employee', manager: 'sam' });
      list.push({ handle, token: (await createToken(await world.as(handle), { name: 'ha', scopes: ['read', 'write'] })).secret });
    }
    return { people: list, sam: people.sam, olivia: people.olivia };
  };

  /** Each acknowledged request filed once, approved once per stage and granted once; none refused. */
  const countFlows = async (log: LoadLog) => {
    const rows = await read<{ handle: string; requests: number; approvals: number; grants: number }>(sql`SELECT i.handle,
      (SELECT count(*)::int FROM access_requests r WHERE r.beneficiary_id = i.id) AS requests,
      (SELECT count(*)::int FROM audit_events e JOIN access_requests r ON e.subject_id = r.id::text
        WHERE r.beneficiary_id = i.id AND e.action = 'request.stage_approved') AS approvals,
      (SELECT count(*)::int FROM grants g WHERE g.identity_id = i.id) AS grants
      FROM identities i WHERE i.handle = ANY(${sql.param(log.flows.map((f) => f.person))}::text[])`);
    const byHandle = new Map(rows.map((r) => [r.handle, r]));
    const granted = log.flows.filter((f) => f.grantId);
    return {
      flows: log.flows.length, granted: granted.length,
      notGranted: granted.filter((f) => byHandle.get(f.person)?.grants !== 1).map((f) => f.person),
      twice: rows.filter((r) => r.requests > 1 || r.approvals > 2 || r.grants > 1).map((r) => `${r.handle}: ${JSON.stringify(r)}`),
      refused: log.flows.filter((f) => f.refused).map((f) => `${f.person}: ${f.refused}`),
      readBack: log.flows.flatMap((f) => f.readBack ?? []).length,
    };
  };

  /**
   * Provisioning through the fault: every grant of the load was added to the target and the grant
   * that ended in the fault removed, each by exactly one job that finished, and read back in the
   * target's own catalogue. Waits (bounded) for the worker to finish them after the fault.
   */
  const provisioned = async (ended: string, holders: string[]) => {
    const jobs = () => read<{ grant_id: string; action: string; states: string[] }>(sql`SELECT grant_id::text, action, array_agg(state ORDER BY seq) AS states
      FROM provisioning_jobs WHERE grant_id IN (SELECT g.id FROM grants g JOIN identities i ON i.id = g.identity_id
        WHERE i.handle = ANY(${sql.param(holders)}::text[])) OR grant_id = ${ended} GROUP BY grant_id, action`);
    const member = (handle: string) => `${target.prefix}${handle} ${target.roles.read}`;
    let rows = await jobs();
    for (let i = 0; i < 150; i += 1) {
      const memberships = new Set(await target.memberships());
      const finished = rows.length === holders.length + 2 && rows.every((r) => r.states.at(-1) === 'done');
      if (finished && holders.every((h) => memberships.has(member(h))) && !memberships.has(member('carl'))) break;
      await sleep(200);
      rows = await jobs();
    }
    return { rows, memberships: new Set(await target.memberships()), member };
  };

  /** Every webhook id the receiver saw carried one body, however often it was delivered. */
  const twoBodies = () => {
    const bodies = new Map<string, Set<string>>();
    for (const hit of receiver.hits) bodies.set(hit.id, (bodies.get(hit.id) ?? new Set()).add(hit.body));
    return [...bodies].filter(([, set]) => set.size > 1).map(([id]) => id);
  };

  /**
   * `outage`: the fault takes the primary away for a while, so some server must say it is not ready.
   * A planned switchover may not: Patroni hands over cleanly and HAProxy follows within its check
   * interval (seen in CI: no server unready, the longest write 211 ms), and ready is then the truth.
   */
  const underFault = async (t: TestContext, name: string, fault: () => Promise<{ from: string; to: string }>, outage = true) => {
    const before = await writeOne(servers[0]!, `before-${name}`);
    // Ends about two seconds into the fault: the worker must end it once, and no check allow it after.
    const ending = await grantFor(servers[0]!, 'carl', '4s');
    // Eve's payments/read, revoked through the API while the primary goes away: once acknowledged, no check may allow it.
    const revoked = await grantFor(servers[0]!, 'eve', '1h');
    const load = startLoad(servers, { ...tokens, flows: await flowPeople(name) }, { checkFor: ['carl', 'eve'] });
    await sleep(1_500);
    const faultAt = Date.now();
    const revocation = revokeDuring(servers[1]!, tokens.writer, revoked.id, name);
    const moved = await fault();
    const revokedAt = await revocation;
    const primaryAt = Date.now();
    const faultMs = primaryAt - faultAt;
    // Every server ready again, then a little more load on the new primary.
    const readyAt = new Map<string, number>();
    while (readyAt.size < servers.length && Date.now() - primaryAt < 30_000) {
      for (const s of servers) {
        const answer = load.log.ready.get(s)!.find((a) => a.at >= primaryAt && a.status === 200);
        if (answer && !readyAt.has(s)) readyAt.set(s, answer.at);
      }
      await sleep(100);
    }
    await sleep(1_000);
    await load.stop();

    for (const p of processes) assert.ok(p.alive(), `a Tenure process exited: ${p.log().slice(-3000)}`);
    const writes = await countWrites(load.log);
    const downtime = writeDowntime(load.log.writes.filter((w) => w.attempts[0]!.at >= faultAt && w.attempts[0]!.at <= primaryAt + 1_000), faultAt);
    const unready = servers.map((s) => unreadyStretch(load.log.ready.get(s)!.filter((a) => a.at >= faultAt - 200)));
    const recoveryMs = servers.map((s) => (readyAt.get(s) ?? Infinity) - primaryAt);
    const flows = await countFlows(load.log);
    const result = { fault: name, ...moved, faultMs, recoveryMs, unreadyMs: unready.map((u) => (u ? u.to - u.from : 0)), writeDowntimeMs: downtime, ...writes,
      flows: flows.flows, flowsGranted: flows.granted, flowsReadBack: flows.readBack, webhookHits: receiver.hits.length,
      checks: load.log.checks.length, checksUnavailable: load.log.checks.filter((c) => c.status !== 200).length, feedLatencyMs: -1,
      revokedStillAllowed: [] as { server: string; afterMs: number }[] };
    figures.push(result);

    assert.equal(writes.lost, 0, 'no acknowledged write is lost');
    assert.equal(writes.duplicated, 0, 'no write is applied twice');
    const unexpected = processes.flatMap((p) => p.log().split('\n').filter((line) => line.includes('unexpected error')).slice(-3));
    assert.deepEqual(writes.refused, [], `every write is acknowledged in the end, retried with its key (or, when its commit's answer was lost, found by reading); serve logged: ${unexpected.join('\n')}`);
    assert.deepEqual(flows.refused, [], 'every request and approval is acknowledged in the end, retried with its key (or found done by reading after outcome_lost)');
    assert.deepEqual(flows.notGranted, [], 'every acknowledged final approval left exactly one grant');
    assert.deepEqual(flows.twice, [], 'no request filed twice, no stage approved twice, no grant issued twice');
    assert.ok(flows.granted > 0, 'some requests went all the way through during the load');
    const [present] = await read<{ id: string }>(sql`SELECT id FROM identities WHERE handle = ${`before-${name}`}`);
    assert.equal(present?.id, before, 'the write acknowledged before the fault is there after it');
    for (const s of servers) {
      const answers = load.log.ready.get(s)!;
      assert.deepEqual(answers.filter((a) => a.status !== 200 && a.status !== 503), [], `${s}/readyz answers 200 or 503, never drops or hangs`);
    }
    if (outage) assert.ok(result.unreadyMs.some((ms) => ms > 0), `a server said it was not ready during the fault: ${result.unreadyMs.join(', ')} ms`);
    assert.ok(recoveryMs.every((ms) => ms <= 15_000), `/readyz answers 200 within 15 s of the new primary: ${recoveryMs.join(', ')} ms`);
    assert.deepEqual(load.log.checks.filter((c) => c.status !== 200 && c.status !== 503), [], '/v1/check answers 200 or 503');
    assert.deepEqual(load.log.checks.filter((c) => c.identity === 'carl' && c.decision === 'allow' && c.at >= ending.endsAt), [], '/v1/check never allows a grant asked after its end');
    assert.ok(revokedAt !== undefined, 'the revocation was acknowledged, retried with its key');
    // The server that acknowledged the revocation dropped the grant from its index in that request:
    // never again. The other learns it by LISTEN, whose connection the fault cut; until it is back
    // and has re-read the feed (about a second after the new primary, docs/high-availability.md) it
    // may still allow. That window is real and is reported, not hidden; past the bound it is a failure.
    const staleAllows = load.log.checks.filter((c) => c.identity === 'eve' && c.decision === 'allow' && c.at >= revokedAt);
    result.revokedStillAllowed = staleAllows.map((c) => ({ server: c.server === servers[1] ? 'revoking' : 'other', afterMs: c.at - revokedAt }));
    assert.deepEqual(staleAllows.filter((c) => c.server === servers[1]), [], '/v1/check on the server that acknowledged the revocation never allows the grant again');
    assert.deepEqual(staleAllows.filter((c) => c.at - revokedAt >= FEED_BACK_WITHIN_MS), [],
      `/v1/check on any server never allows the grant ${FEED_BACK_WITHIN_MS} ms after its revocation was acknowledged`);
    let ended: { status: string; n: number } | undefined;
    for (let i = 0; i < 100 && ended?.status !== 'expired'; i += 1) {
      if (i > 0) await sleep(200);
      [ended] = await read<{ status: string; n: number }>(sql`SELECT g.status, (SELECT count(*)::int FROM audit_events e
        WHERE e.subject_id = g.id::text AND e.action = 'grant.expired') AS n FROM grants g WHERE g.id = ${ending.id}`);
    }
    assert.deepEqual(ended, { status: 'expired', n: 1 }, 'the grant that ended during the fault was ended by the worker exactly once');
    const granted = load.log.flows.filter((f) => f.grantId).map((f) => f.person);
    const provisioning = await provisioned(ending.id, granted);
    assert.deepEqual(provisioning.rows.filter((r) => r.states.length !== 1 || r.states[0] !== 'done').map((r) => `${r.grant_id} ${r.action}: ${r.states.join(',')}`), [],
      'each provisioning and removal was one job, finished');
    assert.equal(provisioning.rows.length, granted.length + 2, 'a provision job per granted request, and the ended grant provisioned then removed');
    assert.deepEqual(granted.filter((h) => !provisioning.memberships.has(provisioning.member(h))), [], 'every grant made during the fault is in the target');
    assert.ok(!provisioning.memberships.has(provisioning.member('carl')), 'the grant that ended in the fault is gone from the target');
    // The worker delivers webhooks again after the fault: the grant that ended during it is announced.
    for (let i = 0; i < 100 && !receiver.hits.some((h) => h.body.includes(ending.id) && h.body.includes('"grant.expired"')); i += 1) await sleep(200);
    assert.ok(receiver.hits.some((h) => h.body.includes(ending.id) && h.body.includes('"grant.expired"')), 'grant.expired of the grant that ended in the fault was delivered');
    assert.deepEqual(twoBodies(), [], 'no two deliveries with one webhook id and different bodies');
    result.feedLatencyMs = await feedCarries(`feed-after-${name}`);
    auditVerifies(await newestAcknowledged(load.log));
    t.diagnostic(JSON.stringify(result));
    return result;
  };

  it('a planned switchover (patronictl switchover): nothing acknowledged is lost or applied twice, /readyz 200 within 15 s of the new primary, the change feed comes back, audit verify is ok', async (t) => {
    const result = await underFault(t, 'switchover', () => cluster.switchover(), false);
    assert.notEqual(result.from, result.to, 'the primary moved to another node');
  });

  it('kill -9 of the leader\'s postmaster: nothing acknowledged is lost or applied twice, /readyz 200 within 15 s of the new primary, the change feed comes back, audit verify is ok', async (t) => {
    await underFault(t, 'kill-9', () => cluster.killLeader());
  });

  it('the leader frozen for 10 s (SIGSTOP, then SIGCONT), its connections silent: nothing acknowledged is lost or applied twice, no process hangs, audit verify is ok', async (t) => {
    await underFault(t, 'freeze-10s', () => cluster.freezeLeader(10_000));
  });
});
