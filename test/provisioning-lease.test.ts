import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { sql } from 'drizzle-orm';
import type { Connector } from '../src/connectors/contract.js';
import { connectorFor } from '../src/connectors/registry.js';
import { claimJobs } from '../src/jobs/provisioning/claim.js';
import { runProvisioningPass } from '../src/jobs/provisioning/index.js';
import { JobLeases } from '../src/jobs/provisioning/lease.js';
import { runJob } from '../src/jobs/provisioning/run-job.js';
import { inTransaction } from '../src/work/context.js';
import { createIdentity } from '../src/operations/create-identity.js';
import { provisioningSettings } from '../src/operations/lib/provisioning/settings.js';
import { revokeGrant } from '../src/operations/revoke-grant.js';
import { openPostgres, rawRows, type Store } from '../src/store/database.js';
import { BACKENDS } from './support/backends.js';
import { grantThrough } from './support/flows.js';
import { createScratchDatabase } from './support/postgres-server.js';
import { buildProvisioningWorld, startPgTarget, type PgTarget } from './support/provisioning-world.js';
import type { World } from './support/world.js';
import { auditKeyEnv } from './support/audit-key.js';

const BIN = fileURLToPath(new URL('../bin/tenure.mjs', import.meta.url));
const RECOVERY_BUDGET_MS = 30_000;

/** `tenure worker` (the long-running one) in its own process, with the default lease: whatever TENURE_PROVISIONING_LEASE_MS the test run has is dropped. */
const startWorker = (databaseUrl: string, extra: NodeJS.ProcessEnv = {}) => {
  const env: NodeJS.ProcessEnv = { ...process.env, ...auditKeyEnv(), DATABASE_URL: databaseUrl, TENURE_ACTOR: '', TENURE_WORKER_INTERVAL_MS: '500',
    TENURE_WEBHOOK_KEY: randomBytes(32).toString('base64'), ...extra };
  delete env.TENURE_PROVISIONING_LEASE_MS;
  const child = spawn(process.execPath, [BIN, 'worker'], { env, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => { stderr += String(chunk); });
  const exited = new Promise<{ code: number | null; signal: string | null }>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  return { child, exited, stderr: () => stderr };
};

const stopChild = async (child: ChildProcess) => {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const gone = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await gone;
  clearTimeout(timer);
};

const jobStates = (store: Store, ids: string[]) => rawRows<{ state: string; n: number }>(store.db, sql`
  SELECT state, count(*)::int AS n FROM provisioning_jobs WHERE action = 'deprovision'
     AND grant_id IN (SELECT jsonb_array_elements_text(${JSON.stringify(ids)}::jsonb)::uuid) GROUP BY state ORDER BY state`);
const deprovisionedEvents = async (store: Store, ids: string[]) => (await rawRows<{ n: number }>(store.db, sql`
  SELECT count(*)::int AS n FROM audit_events WHERE action = 'grant.deprovisioned'
     AND subject_id IN (SELECT jsonb_array_elements_text(${JSON.stringify(ids)}::jsonb))`))[0]!.n;

describe('provisioning leases are short and renewed, on the PostgreSQL server against a real target', { skip: !BACKENDS.includes('postgres') }, () => {
  let target: PgTarget;
  let store: Store;
  let scratch: Awaited<ReturnType<typeof createScratchDatabase>>;
  let w: World;
  const children: ChildProcess[] = [];
  const entitlements = ['read', 'approve'] as const;
  const ours = async (handles: string[]) => (await target.memberships()).filter((m) => handles.some((h) => m.startsWith(`${target.prefix}${h} `)));
  /** The in-process worker's clock follows real time, as the spawned workers' clocks do. */
  const inProcessPass = () => {
    w.clock.advance(Math.max(0, Date.now() - w.clock.now().getTime()));
    return runProvisioningPass(w.worker);
  };
  const grantAll = async (handles: string[]) => {
    const ids: string[] = [];
    for (const who of handles) {
      await createIdentity(await w.as('ada'), { handle: who, displayName: who, kind: 'employee', manager: 'sam' });
      for (const name of entitlements) {
        ids.push(await grantThrough(w, who, { entitlement: `payments/${name}`, justification: 'lease test', duration: '1d' }, ['sam', 'olivia']));
      }
    }
    await inProcessPass();
    assert.equal((await ours(handles)).length, handles.length * entitlements.length, 'every grant is in the target before the removals');
    return ids;
  };
  const revokeAll = async (ids: string[]) => {
    for (const id of ids) await revokeGrant(await w.as('ivan'), { grant: id, reason: 'lease test' });
  };

  before(async () => {
    target = await startPgTarget();
    scratch = await createScratchDatabase();
    store = await openPostgres(scratch.url);
    w = await buildProvisioningWorld(store, target, { brake: { share: 1, minimum: 1000 } }, new Date().toISOString());
  });
  after(async () => {
    for (const child of children) await stopChild(child);
    await store?.close(); await scratch?.drop(); await target?.stop();
  });

  it('a worker SIGKILLed in the middle of a removal batch: after a restart every removal is confirmed in the target within 30 seconds', async () => {
    const handles = Array.from({ length: 10 }, (_, i) => `kill${i}`);
    const ids = await grantAll(handles);
    await revokeAll(ids);

    // The first success of a pass is committed in a group of its own (record-success.ts): one is done when it dies.
    const doomed = startWorker(scratch.url, { TENURE_FAILPOINTS: 'provisioning.after_job_committed:1' });
    children.push(doomed.child);
    const died = await doomed.exited;
    assert.equal(died.signal, 'SIGKILL', doomed.stderr());
    const mid = Object.fromEntries((await jobStates(store, ids)).map((r) => [r.state, r.n]));
    assert.equal(mid.done, 1, 'one removal committed before the kill');
    assert.ok((mid.running ?? 0) > 0, `the rest of the batch was claimed and left running: ${JSON.stringify(mid)}`);
    assert.ok((await ours(handles)).length > 0, 'access remains in the target after the kill');

    const restartedAt = Date.now();
    const restarted = startWorker(scratch.url);
    children.push(restarted.child);
    let left = await ours(handles);
    while (left.length > 0 && Date.now() - restartedAt < RECOVERY_BUDGET_MS) {
      await new Promise((resolve) => setTimeout(resolve, 250));
      left = await ours(handles);
    }
    const elapsed = Date.now() - restartedAt;
    assert.deepEqual(left, [], `still in the target ${elapsed} ms after the restart: ${restarted.stderr()}`);
    let states = await jobStates(store, ids);
    while (!(states.length === 1 && states[0]!.state === 'done') && Date.now() - restartedAt < RECOVERY_BUDGET_MS) {
      await new Promise((resolve) => setTimeout(resolve, 250));
      states = await jobStates(store, ids);
    }
    assert.deepEqual(states, [{ state: 'done', n: ids.length }], 'every removal is recorded done, read back from the target');
    assert.ok(Date.now() - restartedAt < RECOVERY_BUDGET_MS, `confirmed ${Date.now() - restartedAt} ms after the restart`);
    assert.equal(await deprovisionedEvents(store, ids), ids.length, 'one record of each removal, none twice');
    await stopChild(restarted.child);
  });

  it('a worker whose lease lapsed and was taken over does not call the target nor record the job when it resumes', async () => {
    const handles = ['paused'];
    const [first] = await grantAll(handles);
    await revokeAll([first!]);
    const settings = await provisioningSettings(store.db);
    let staleCalls = 0;
    const counted = (systemKey: string): Connector | null => {
      const real = connectorFor(settings.systems[systemKey]);
      if (!real) return null;
      return Object.assign(Object.create(real) as Connector, {
        deprovision: (...args: Parameters<Connector['deprovision']>) => { staleCalls += 1; return real.deprovision(...args); },
      });
    };

    // Worker A claims the removal, then stops renewing (a frozen process: a long GC or VM pause) past its lease.
    w.clock.advance(Math.max(0, Date.now() - w.clock.now().getTime()));
    const leaseMs = 2_000;
    const claimed = await inTransaction(w.worker, (work) => claimJobs(work, 10, leaseMs));
    assert.equal(claimed.length, 1);
    const frozen = new JobLeases(w.worker, leaseMs, claimed);
    w.clock.advance(leaseMs + 1_000);

    // Worker B takes the job over and removes the access; then the person is granted the same access again.
    const taken = await runProvisioningPass(w.worker, { leaseMs });
    assert.equal(taken.done, 1, 'the lapsed job was taken over');
    await grantThrough(w, 'paused', { entitlement: 'payments/read', justification: 'back again', duration: '1d' }, ['sam', 'olivia']);
    await runProvisioningPass(w.worker, { leaseMs });
    const readAgain = `${target.prefix}paused ${target.roles.read}`;
    assert.ok((await ours(handles)).includes(readAgain), 'the new grant is in the target');

    // A resumes with its stale claim.
    const result = await runJob(w.worker, claimed[0]!, settings, counted, frozen);
    assert.equal(result, 'lost_lease');
    assert.equal(staleCalls, 0, 'the stale worker never called the target');
    assert.ok((await ours(handles)).includes(readAgain), 'the access granted since is still in the target');
    const [job] = await rawRows<{ attempts: number; outcome_attempt: number }>(store.db, sql`
      SELECT attempts, (outcome->>'attempt')::int AS outcome_attempt FROM provisioning_jobs WHERE grant_id = ${first!} AND action = 'deprovision'`);
    assert.deepEqual(job, { attempts: 2, outcome_attempt: 2 }, 'the job is recorded as the second claim\'s');
    assert.equal(await deprovisionedEvents(store, [first!]), 1);
  });

  it('a live worker renews its lease through a target call longer than the lease, so no other worker takes the job over', async () => {
    const handles = ['slow'];
    const [grant] = await grantAll(handles);
    await revokeAll([grant!]);
    const settings = await provisioningSettings(store.db);
    let release!: () => void;
    const released = new Promise<void>((resolve) => { release = resolve; });
    let calls = 0;
    const slow = (systemKey: string): Connector | null => {
      const real = connectorFor(settings.systems[systemKey]);
      if (!real) return null;
      return Object.assign(Object.create(real) as Connector, {
        deprovision: async (...args: Parameters<Connector['deprovision']>) => { calls += 1; await released; return real.deprovision(...args); },
      });
    };
    w.clock.advance(Math.max(0, Date.now() - w.clock.now().getTime()));
    const leaseMs = 1_500;
    const claimed = await inTransaction(w.worker, (work) => claimJobs(work, 10, leaseMs));
    assert.equal(claimed.length, 1);
    const leases = new JobLeases(w.worker, leaseMs, claimed).start();
    const running = runJob(w.worker, claimed[0]!, settings, slow, leases);
    try {
      // Time passes past the first lease while the call hangs; the renewals (every 500 ms of real time) keep moving it on.
      for (let step = 0; step < 3; step += 1) {
        w.clock.advance(1_000);
        await new Promise((resolve) => setTimeout(resolve, 1_200));
        const other = await runProvisioningPass(w.worker, { leaseMs });
        assert.equal(other.done + other.failed, 0, `another worker took the job over ${step + 1} s after the claim`);
      }
    } finally {
      release();
    }
    assert.equal(await running, 'done');
    await leases.stop();
    assert.equal(calls, 1);
    const [job] = await rawRows<{ attempts: number; state: string }>(store.db, sql`
      SELECT attempts, state FROM provisioning_jobs WHERE grant_id = ${grant!} AND action = 'deprovision'`);
    assert.deepEqual(job, { attempts: 1, state: 'done' });
    assert.deepEqual(await ours(handles), [`${target.prefix}slow ${target.roles.approve}`], 'only the grant not revoked is left');
  });
});
