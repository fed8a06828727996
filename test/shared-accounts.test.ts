import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { sql } from 'drizzle-orm';
import pg from 'pg';
import { parse, stringify } from 'yaml';
import { TenureError } from '../src/domain/errors.js';
import { loadHttpConfig } from '../src/config.js';
import { buildApp } from '../src/http/app.js';
import { runProvisioningPass } from '../src/jobs/provisioning/index.js';
import { runLifecycleTick } from '../src/jobs/lifecycle.js';
import { approveRequest } from '../src/operations/approve-request.js';
import { cancelRequest } from '../src/operations/cancel-request.js';
import { createIdentity } from '../src/operations/create-identity.js';
import { createRequest } from '../src/operations/create-request.js';
import { createToken } from '../src/operations/create-token.js';
import { issueGrantCredential } from '../src/operations/issue-grant-credential.js';
import { listCatalogue } from '../src/operations/list-catalogue.js';
import { revokeGrant } from '../src/operations/revoke-grant.js';
import { startBreakGlass } from '../src/operations/start-break-glass.js';
import { rawRows, type Store } from '../src/store/database.js';
import { freshStore } from './support/backends.js';
import { grantThrough } from './support/flows.js';
import { allEnded, psql, startProxyTarget, startProxyWorld, tokenOf, type ProxyTarget, type ProxyWorld } from './support/pg-proxy-world.js';
import { applyPolicyText, provisioningPolicy, type PgTarget } from './support/provisioning-world.js';
import { startTlsPostgres, type TlsCluster } from './support/tls-postgres.js';
import type { World } from './support/world.js';

/**
 * Issue 18, shared operational accounts on PostgreSQL: `payments/app-admin` is checked out like any
 * privileged request (sponsor, owner, security), by one person at a time, used only through the
 * proxy (which signs in as the shared role and records the session under the person), and its
 * password is rotated when the check-out ends. The target is a private cluster that trusts the
 * proxy's certificate for every role, and asks a password of anyone coming without TLS: so a
 * password someone once knew of the shared role works directly until Tenure rotates it.
 */
const OLD_PASSWORD = 'the-dba-knew-this-one';
const PEOPLE = 8;

const sharedPolicy = (target: ProxyTarget, upstreamVar: string, role: string, shared = true): string => {
  const connector = { type: 'postgres-roles', url: `env:${target.urlVar}`, role_prefix: target.prefix, proxy: { parameters: 'redact', upstream: `env:${upstreamVar}` } };
  const doc = parse(provisioningPolicy({ ...target, deadVar: target.urlVar } as unknown as PgTarget, { connector })) as { systems: { payments: Record<string, unknown> }; break_glass?: unknown };
  const account = { 'app-admin': { name: 'Application administrator', tier: 'privileged', max_duration: '4h', target: role, break_glass: true } };
  if (shared) doc.systems.payments.shared_accounts = account;
  else Object.assign(doc.systems.payments.entitlements as object, account);
  doc.break_glass = { users: ['sam'], reviewers: ['group:secops'], max_ttl: '2h' };
  return stringify(doc);
};

/** What a call at once with others came to: its answer, or the Tenure error it was refused with. */
const settle = async (call: () => Promise<unknown>): Promise<{ ok: true } | { ok: false; error: TenureError }> => {
  try { await call(); return { ok: true }; } catch (error) {
    if (error instanceof TenureError) return { ok: false, error };
    throw error;
  }
};

const verifierOf = (target: ProxyTarget, role: string) =>
  target.admin(async (c) => (await c.query<{ v: string | null }>('SELECT rolpassword AS v FROM pg_authid WHERE rolname = $1', [role])).rows[0]?.v);

/** Signs in to the target directly, without TLS (the way around the proxy), with a password. */
const direct = async (cluster: TlsCluster, user: string, password: string): Promise<string> => {
  const client = new pg.Client({ host: '127.0.0.1', port: cluster.port, user, password, database: 'postgres', ssl: false });
  await client.connect();
  try { return (await client.query<{ u: string }>('SELECT current_user AS u')).rows[0]!.u; } finally { await client.end(); }
};

const liveGrantsOf = (store: Store) => rawRows<{ handle: string; id: string }>(store.db, sql`
  SELECT i.handle, g.id FROM grants g JOIN entitlements e ON e.id = g.entitlement_id JOIN identities i ON i.id = g.identity_id
   WHERE e.key = 'payments/app-admin' AND g.status IN ('scheduled','active')`);

const checkOut = (w: World, handle: string, approvers: string[]) =>
  grantThrough(w, handle, { entitlement: 'payments/app-admin', justification: 'release night', duration: '2h' }, approvers);

describe('shared operational accounts on PostgreSQL, checked out through Tenure and used through its proxy', { skip: process.env.TENURE_TEST_BACKENDS === 'embedded' }, () => {
  let cluster: TlsCluster;
  let target: ProxyTarget;
  let store: Store;
  let p: ProxyWorld;
  let role: string;
  const upstreamVar = `TENURE_TEST_SHARED_UPSTREAM_${process.pid}`;
  before(async () => {
    cluster = await startTlsPostgres(['local all all trust', 'hostssl all postgres 127.0.0.1/32 trust',
      'hostssl all all 127.0.0.1/32 trust clientcert=verify-ca', 'hostnossl all all 127.0.0.1/32 scram-sha-256']);
    target = await startProxyTarget(cluster.adminUrl);
    role = `${target.prefix.slice(0, -3)}_app_admin`;
    await target.admin((c) => c.query(`CREATE ROLE ${role} LOGIN PASSWORD '${OLD_PASSWORD}'; GRANT SELECT, INSERT ON ledger TO ${role}`));
    const tls = new URLSearchParams({ sslmode: 'verify-full', sslrootcert: cluster.rootCert, sslcert: cluster.proxyCert, sslkey: cluster.proxyKey });
    process.env[upstreamVar] = `postgres://127.0.0.1:${cluster.port}/postgres?${tls.toString()}`;
    store = await freshStore('postgres', { poolSize: 16 });
    p = await startProxyWorld(store, target, { upstreamVar });
    await applyPolicyText(p.world, sharedPolicy(target, upstreamVar, role));
  });
  after(async () => {
    await p?.stop();
    await store?.close();
    await target?.drop();
    await cluster?.stop();
    delete process.env[upstreamVar];
  });

  it('starts from a shared role whose password someone once knew, which signs in directly (without TLS) until Tenure rotates it', async () => {
    assert.equal(await direct(cluster, role, OLD_PASSWORD), role);
  });

  it('shows the shared account in the catalogue as one, routed to sponsor, owner and security like any privileged entitlement', async () => {
    const items = (await listCatalogue(await p.world.as('carl'))).items.filter((i) => i.system === 'payments');
    const shared = items.find((i) => i.key === 'payments/app-admin');
    assert.deepEqual({ shared: shared?.sharedAccount, tier: shared?.tier, route: shared?.route }, { shared: true, tier: 'privileged', route: ['sponsor', 'system_owner', 'security'] });
    assert.deepEqual(items.filter((i) => i.sharedAccount).map((i) => i.key), ['payments/app-admin']);
  });

  it('final approvals of many check-outs arriving at once make exactly one holder, and queue every other requester in one line, told who holds it and until when', async () => {
    const ada = await p.world.as('ada');
    const handles = Array.from({ length: PEOPLE }, (_, i) => `ops-${i}`);
    for (const handle of handles) await createIdentity(ada, { handle, displayName: handle, kind: 'employee', manager: 'sam' });
    const requests: string[] = [];
    for (const handle of handles) {
      const request = await createRequest(await p.world.as(handle), { entitlement: 'payments/app-admin', justification: 'release night', duration: '2h' });
      for (const approver of ['sam', 'olivia']) assert.equal((await approveRequest(await p.world.as(approver), { request: request.id })).status, 'pending');
      requests.push(request.id);
    }
    const selma = await p.world.as('selma');
    const outcomes = await Promise.all(requests.map((request) => approveRequest(selma, { request })));
    const live = await liveGrantsOf(store);
    assert.equal(live.length, 1, 'one live grant of the shared account');
    assert.equal(outcomes.filter((o) => o.status === 'approved').length, 1, 'exactly one final approval gave the account');
    const holder = live[0]!.handle;
    const until = new Date(p.world.clock.now().getTime() + 2 * 3_600_000).toISOString();
    const queued = outcomes.filter((o) => o.status === 'queued');
    assert.deepEqual(queued.map((o) => o.queue?.position).sort((a, b) => a! - b!), [1, 2, 3, 4, 5, 6, 7], 'one line, each at its own place');
    for (const o of queued) assert.deepEqual({ holder: o.queue?.holder?.handle, until: o.queue?.holder?.until, grant: o.grantId }, { holder, until, grant: null });
    // The holder checks in (gives the grant up): the worker pass hands the account to the first in line, and only to them.
    await revokeGrant(await p.world.as(holder), { grant: live[0]!.id, reason: 'checked in' });
    const first = queued.find((o) => o.queue?.position === 1)!;
    assert.equal((await runLifecycleTick(p.world.worker)).checkOutsGiven, 1);
    const [next] = await rawRows<{ status: string; grant_id: string }>(store.db, sql`SELECT status, grant_id FROM access_requests WHERE id = ${first.id}`);
    assert.deepEqual([next?.status, (await liveGrantsOf(store)).map((g) => g.id)], ['approved', [next?.grant_id]]);
    // The others withdraw, and the one who got it checks in: the account is free again, nobody waits.
    for (const o of queued.filter((q) => q !== first)) {
      const [{ handle } = { handle: '' }] = await rawRows<{ handle: string }>(store.db, sql`
        SELECT i.handle FROM access_requests r JOIN identities i ON i.id = r.requester_id WHERE r.id = ${o.id}`);
      assert.equal((await cancelRequest(await p.world.as(handle), { request: o.id, reason: 'not tonight' })).status, 'cancelled');
    }
    const [given] = await liveGrantsOf(store);
    await revokeGrant(await p.world.as(given!.handle), { grant: given!.id, reason: 'checked in' });
    assert.deepEqual([await liveGrantsOf(store), (await runLifecycleTick(p.world.worker)).checkOutsGiven], [[], 0]);
    await runProvisioningPass(p.world.worker);
  });

  let grant: string;
  let token: string;
  let verifierAtCheckOut: string | null | undefined;
  let eveRequest: string;
  it('checks out to carl after sponsor, owner and security approve, and gives his own login role nothing', async () => {
    grant = await checkOut(p.world, 'carl', ['sam', 'olivia', 'selma']);
    await runProvisioningPass(p.world.worker);
    token = await tokenOf(p.world, 'carl');
    verifierAtCheckOut = await verifierOf(target, role);
    const carlRole = await target.admin(async (c) => (await c.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [`${target.prefix}carl`])).rowCount);
    assert.equal(carlRole, 0, 'no login role was made for carl');
    eveRequest = (await createRequest(await p.world.as('eve'), { entitlement: 'payments/app-admin', justification: 'hotfix', duration: '2h' })).id;
    for (const approver of ['sam', 'olivia']) await approveRequest(await p.world.as(approver), { request: eveRequest });
    // Through the HTTP API, as security's console would: eve's check-out waits in line, first, behind carl until his end.
    const app = await buildApp({ store, clock: p.world.clock, http: loadHttpConfig({}) });
    try {
      const res = await app.inject({ method: 'POST', url: `/v1/requests/${eveRequest}/approve`, payload: {},
        headers: { authorization: `Bearer ${(await createToken(await p.world.as('selma'), { name: 'console', scopes: ['read', 'write'] })).secret}` } });
      assert.equal(res.statusCode, 200);
      const decision = res.json<{ status: string; grantId: string | null; queue: { position: number; holder: { handle: string; grant: string; until: string } } }>();
      assert.deepEqual({ status: decision.status, grantId: decision.grantId, position: decision.queue.position, holder: decision.queue.holder.handle, grant: decision.queue.holder.grant },
        { status: 'queued', grantId: null, position: 1, holder: 'carl', grant });
    } finally { await app.close(); }
  });

  it('never hands carl a credential of the shared account', async () => {
    await assert.rejects(issueGrantCredential(await p.world.as('carl'), { grant }), (error: TenureError) => error.code === 'shared_account.no_credential');
  });

  it('runs carl\'s session through the proxy as the shared role itself, recorded under his name', async () => {
    const out = await psql(p.port, 'carl', 'payments/app-admin', token, 'SELECT current_user, session_user', 'SELECT count(*) FROM ledger');
    assert.equal(out, `${role}|${role}\n3\n`);
    await allEnded(store);
    const rows = await rawRows<{ handle: string; account: string; role: string; grant_id: string; statement_count: number }>(store.db, sql`
      SELECT i.handle, s.account, s.role, s.grant_id, s.statement_count FROM proxy_sessions s JOIN identities i ON i.id = s.identity_id`);
    assert.deepEqual(rows.map((r) => ({ ...r, statement_count: r.statement_count > 0 })),
      [{ handle: 'carl', account: role, role, grant_id: grant, statement_count: true }]);
  });

  it('does not let carl sign in to the target directly, with his token or without the proxy\'s certificate', async () => {
    await assert.rejects(direct(cluster, role, token), /password authentication failed/);
    await assert.rejects(psql(cluster.port, role, 'postgres sslmode=require', token, 'SELECT 1'), /certificate/);
  });

  it('at check-in cuts carl\'s open session, refuses him at the proxy and rotates the password, read back, so the old one no longer works', async () => {
    const open = new pg.Client({ host: '127.0.0.1', port: p.port, user: 'carl', password: token, database: 'payments/app-admin' });
    const closed = new Promise<void>((resolve) => { open.on('error', () => resolve()); open.on('end', () => resolve()); });
    await open.connect();
    assert.equal((await open.query<{ u: string }>('SELECT current_user AS u')).rows[0]!.u, role);
    await revokeGrant(await p.world.as('carl'), { grant, reason: 'checked in' });
    await closed;
    const cut = (await allEnded(store)).find((s) => s.end_reason !== 'client_closed');
    assert.deepEqual({ reason: cut?.end_reason, account: cut?.account }, { reason: 'grant_revoked', account: role });
    // Refused whether the proxy's decision index has seen the check-in yet or not (then the session's own transaction refuses).
    await assert.rejects(psql(p.port, 'carl', 'payments/app-admin', token, 'SELECT 1'), /holds no live grant of payments\/app-admin|the grant is not live/);
    await runProvisioningPass(p.world.worker);
    const after = await verifierOf(target, role);
    assert.ok(after && after !== verifierAtCheckOut, 'the stored verifier changed');
    const [event] = await rawRows<{ canonical: string }>(store.db, sql`
      SELECT canonical FROM audit_events WHERE action = 'grant.deprovisioned' AND subject_id = ${grant}`);
    const rotation = (JSON.parse(event!.canonical) as { data: { rotation?: { beforeSha256: string; afterSha256: string } } }).data.rotation;
    assert.ok(rotation?.afterSha256 && rotation.beforeSha256 !== rotation.afterSha256, 'grant.deprovisioned carries the rotation read back');
    await assert.rejects(direct(cluster, role, OLD_PASSWORD), /password authentication failed/);
  });

  it('checks the account out to eve, next in line, at the first worker pass after carl has checked in', async () => {
    assert.equal((await runLifecycleTick(p.world.worker)).checkOutsGiven, 1);
    assert.deepEqual((await liveGrantsOf(store)).map((g) => g.handle), ['eve']);
    const [request] = await rawRows<{ status: string }>(store.db, sql`SELECT status FROM access_requests WHERE id = ${eveRequest}`);
    assert.equal(request?.status, 'approved');
  });

  it('refuses break-glass into the shared account while eve holds it, naming her, and lets it in once she has checked in', async () => {
    const emergency = { entitlement: 'payments/app-admin', incident: 'INC-7', reason: 'payments are down' };
    await assert.rejects(startBreakGlass(await p.world.as('sam'), emergency),
      (error: TenureError) => error.code === 'shared_account.checked_out' && /checked out by eve/.test(error.message));
    const [eve] = await liveGrantsOf(store);
    await revokeGrant(await p.world.as('eve'), { grant: eve!.id, reason: 'checked in' });
    const started = await startBreakGlass(await p.world.as('sam'), emergency);
    await runProvisioningPass(p.world.worker);
    assert.equal(await psql(p.port, 'sam', 'payments/app-admin', await tokenOf(p.world, 'sam'), 'SELECT current_user'), `${role}\n`);
    assert.deepEqual((await liveGrantsOf(store)).map((g) => [g.handle, g.id]), [['sam', started.grantId]]);
  });

  it('refuses a policy that would make the held shared account an ordinary entitlement', async () => {
    await assert.rejects(applyPolicyText(p.world, sharedPolicy(target, upstreamVar, role, false)),
      (error: TenureError) => error.code === 'policy.entitlement_in_use' && /payments\/app-admin a shared account or an ordinary entitlement/.test(error.message));
  });

  it('books later check-outs for windows that do not overlap, and refuses one that overlaps, naming the booked holder and window', async () => {
    const ada = await p.world.as('ada');
    for (const handle of ['night-0', 'night-1', 'night-2']) await createIdentity(ada, { handle, displayName: handle, kind: 'employee', manager: 'sam' });
    const at = (hours: number) => new Date(p.world.clock.now().getTime() + hours * 3_600_000).toISOString();
    const book = async (handle: string, from: number, to: number) => {
      const request = await createRequest(await p.world.as(handle), { entitlement: 'payments/app-admin', justification: 'maintenance window',
        startsAt: at(from), endsAt: at(to) });
      for (const approver of ['sam', 'olivia']) await approveRequest(await p.world.as(approver), { request: request.id });
      const selma = await p.world.as('selma');
      return settle(() => approveRequest(selma, { request: request.id }));
    };
    assert.deepEqual(await book('night-0', 24, 26), { ok: true });
    const overlapping = await book('night-1', 25, 27);
    assert.ok(!overlapping.ok && overlapping.error.code === 'shared_account.checked_out');
    assert.match(overlapping.error.message, new RegExp(`checked out by night-0 from ${at(24)} until ${at(26)}`));
    assert.deepEqual(await book('night-2', 26, 28), { ok: true }, 'the window right after it is free');
  });
});
