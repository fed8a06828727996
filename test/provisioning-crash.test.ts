import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { sql } from 'drizzle-orm';
import { runProvisioningPass } from '../src/jobs/provisioning/index.js';
import { createIdentity } from '../src/operations/create-identity.js';
import { revokeGrant } from '../src/operations/revoke-grant.js';
import { openPostgres, rawRows, type Store } from '../src/store/database.js';
import { BACKENDS } from './support/backends.js';
import { grantThrough } from './support/flows.js';
import { createScratchDatabase } from './support/postgres-server.js';
import { buildProvisioningWorld, startPgTarget, type PgTarget } from './support/provisioning-world.js';
import type { World } from './support/world.js';

const BIN = fileURLToPath(new URL('../bin/tenure.mjs', import.meta.url));
const LEASE_MS = 2_000;

/** `tenure worker --once` in its own process, armed to SIGKILL itself at a failpoint; resolves with how it ended. */
const workerDyingAt = (databaseUrl: string, failpoint: string) => new Promise<{ code: number | null; signal: string | null; stderr: string }>((resolve) => {
  const child = spawn(process.execPath, [BIN, 'worker', '--once'], {
    env: { ...process.env, DATABASE_URL: databaseUrl, TENURE_ACTOR: '', TENURE_FAILPOINTS: failpoint, TENURE_PROVISIONING_LEASE_MS: String(LEASE_MS) },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => { stderr += String(chunk); });
  child.on('exit', (code, signal) => resolve({ code, signal, stderr }));
});

interface JobRow { grant_id: string; state: string; attempts: number; changed: boolean | null }
const deprovisionJobs = (store: Store, ids: string[]) => rawRows<JobRow>(store.db, sql`
  SELECT grant_id, state, attempts, (outcome->>'changed')::boolean AS changed FROM provisioning_jobs
   WHERE action = 'deprovision' AND grant_id IN (SELECT jsonb_array_elements_text(${JSON.stringify(ids)}::jsonb)::uuid) ORDER BY seq`);
const deprovisionedEvents = async (store: Store, id: string) => (await rawRows<{ n: number }>(store.db,
  sql`SELECT count(*)::int AS n FROM audit_events WHERE action = 'grant.deprovisioned' AND subject_id = ${id}`))[0]!.n;

/** The in-process recovery worker runs after the dead worker's lease has lapsed, moving its clock rather than sleeping. */
const recover = async (w: World) => {
  w.clock.advance(Date.now() - w.clock.now().getTime() + LEASE_MS + 1_000);
  return runProvisioningPass(w.worker, { leaseMs: LEASE_MS });
};

describe('a provisioning worker killed at the worst moments, on the PostgreSQL server', { skip: !BACKENDS.includes('postgres') }, () => {
  let target: PgTarget;
  let store: Store;
  let scratch: Awaited<ReturnType<typeof createScratchDatabase>>;
  let w: World;
  const people = ['ana', 'ben', 'cas', 'dan'];
  const held = (handle: string) => `${target.prefix}${handle} ${target.roles.read}`;
  const grantAll = async () => {
    const ids: string[] = [];
    for (const who of people) {
      ids.push(await grantThrough(w, who, { entitlement: 'payments/read', justification: 'crash test', duration: '1d' }, ['sam', 'olivia']));
    }
    await runProvisioningPass(w.worker, { leaseMs: LEASE_MS });
    return ids;
  };
  const revokeAll = async (ids: string[]) => {
    for (const id of ids) await revokeGrant(await w.as('ivan'), { grant: id, reason: 'crash test' });
  };

  before(async () => {
    target = await startPgTarget();
    scratch = await createScratchDatabase();
    store = await openPostgres(scratch.url);
    w = await buildProvisioningWorld(store, target, { brake: { share: 1, minimum: 100 } }, new Date().toISOString());
    for (const handle of people) await createIdentity(await w.as('ada'), { handle, displayName: handle, kind: 'employee', manager: 'sam' });
  });
  after(async () => { await store?.close(); await scratch?.drop(); await target?.stop(); });

  it('killed between the connector call and the commit: the removal happened once, and the retry records it without repeating it', async () => {
    const ids = await grantAll();
    assert.equal((await target.memberships()).filter((m) => m.endsWith(target.roles.read)).length, people.length);
    await revokeAll(ids.slice(0, 1));
    const died = await workerDyingAt(scratch.url, 'provisioning.after_connector_call:1');
    assert.equal(died.signal, 'SIGKILL', died.stderr);
    assert.ok(!(await target.memberships()).includes(held('ana')), 'the target call went through before the kill');
    assert.deepEqual((await deprovisionJobs(store, ids.slice(0, 1))).map((j) => j.state), ['running'], 'but its commit was lost');

    await recover(w);
    const [job] = await deprovisionJobs(store, ids.slice(0, 1));
    assert.deepEqual({ state: job!.state, attempts: job!.attempts, changed: job!.changed }, { state: 'done', attempts: 2, changed: false },
      'the second attempt found the access already gone: no second side effect');
    assert.equal(await deprovisionedEvents(store, ids[0]!), 1, 'one record of the removal');
    await revokeAll(ids.slice(1));
    await recover(w);
  });

  it('killed in the middle of a batch: the job committed stays done, the others are taken over, and none is lost or recorded twice', async () => {
    const ids = await grantAll();
    await revokeAll(ids);
    // Successes are group-committed; the first outcome of a pass is always a group of its own, so one job is committed when it dies.
    const died = await workerDyingAt(scratch.url, 'provisioning.after_job_committed:1');
    assert.equal(died.signal, 'SIGKILL', died.stderr);
    const mid = await deprovisionJobs(store, ids);
    // Several people's jobs run at once, so which one committed first is not fixed; that one did is.
    assert.deepEqual(mid.map((j) => j.state).sort(), ['done', 'running', 'running', 'running'], 'one committed, three claimed when it died');
    const committed = mid.flatMap((j, i) => (j.state === 'done' ? [i] : []));
    const stillHeld = (await target.memberships()).filter((m) => m.endsWith(target.roles.read));
    for (const i of committed) assert.ok(!stillHeld.includes(held(people[i]!)), 'a committed removal is gone from the target');

    await recover(w);
    const end = await deprovisionJobs(store, ids);
    assert.deepEqual(end.map((j) => j.state), ['done', 'done', 'done', 'done']);
    assert.deepEqual(end.map((j) => j.attempts), end.map((_, i) => (committed.includes(i) ? 1 : 2)), 'the committed ones untouched, the others done at their second attempt');
    assert.deepEqual((await target.memberships()).filter((m) => m.endsWith(target.roles.read)), []);
    for (const id of ids) assert.equal(await deprovisionedEvents(store, id), 1);
  });
});
