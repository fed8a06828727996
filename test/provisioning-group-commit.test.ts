import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { sql } from 'drizzle-orm';
import { claimJobs } from '../src/jobs/provisioning/claim.js';
import { runProvisioningPass } from '../src/jobs/provisioning/index.js';
import { SuccessRecorder } from '../src/jobs/provisioning/record-success.js';
import { loadGrantContext } from '../src/operations/lib/provisioning/grant-context.js';
import { createIdentity } from '../src/operations/create-identity.js';
import { revokeGrant } from '../src/operations/revoke-grant.js';
import { openPostgres, rawRows, type Store } from '../src/store/database.js';
import { inTransaction } from '../src/work/context.js';
import { verifyChain } from '../src/audit/verify.js';
import { tempAnchor } from './support/audit-fixture.js';
import { BACKENDS } from './support/backends.js';
import { grantThrough } from './support/flows.js';
import { createScratchDatabase } from './support/postgres-server.js';
import { buildProvisioningWorld, startPgTarget, type PgTarget } from './support/provisioning-world.js';
import type { World } from './support/world.js';

const OUTCOME = { changed: true, readBack: 'absent' };
/** The hash chain only: no checkpoint is expected of a test database. */
const chainHolds = async (store: Store) =>
  (await verifyChain(store.db, { trusted: new Map(), anchor: tempAnchor(), now: new Date(), unsignedGraceMs: 0, allowUnsigned: true })).ok;

describe('removals are recorded in group commits, on the PostgreSQL server', { skip: !BACKENDS.includes('postgres') }, () => {
  let target: PgTarget;
  let store: Store;
  let scratch: Awaited<ReturnType<typeof createScratchDatabase>>;
  let w: World;
  let people = 0;

  before(async () => {
    target = await startPgTarget();
    scratch = await createScratchDatabase();
    store = await openPostgres(scratch.url);
    w = await buildProvisioningWorld(store, target, { brake: { share: 1, minimum: 1000 } }, new Date().toISOString());
  });
  after(async () => { await store?.close(); await scratch?.drop(); await target?.stop(); });

  /** n people granted payments/read, provisioned, then revoked: their removal jobs, claimed as a worker claims them. */
  const claimedRemovals = async (n: number) => {
    const ids: string[] = [];
    for (let i = 0; i < n; i += 1) {
      people += 1;
      const who = `group${people}`;
      await createIdentity(await w.as('ada'), { handle: who, displayName: who, kind: 'employee', manager: 'sam' });
      ids.push(await grantThrough(w, who, { entitlement: 'payments/read', justification: 'group commit test', duration: '1d' }, ['sam', 'olivia']));
    }
    await runProvisioningPass(w.worker);
    for (const id of ids) await revokeGrant(await w.as('ivan'), { grant: id, reason: 'group commit test' });
    const jobs = await inTransaction(w.worker, (work) => claimJobs(work, 100, 60_000));
    assert.equal(jobs.length, n, 'one removal job per grant');
    return jobs;
  };
  const jobRows = (ids: string[]) => rawRows<{ state: string; tx: string }>(store.db, sql`
    SELECT state, xmin::text AS tx FROM provisioning_jobs WHERE id IN (SELECT jsonb_array_elements_text(${JSON.stringify(ids)}::jsonb)::uuid)`);
  const deprovisionedEvents = async (grantIds: string[]) => (await rawRows<{ n: number }>(store.db, sql`
    SELECT count(*)::int AS n FROM audit_events WHERE action = 'grant.deprovisioned'
       AND subject_id IN (SELECT jsonb_array_elements_text(${JSON.stringify(grantIds)}::jsonb))`))[0]!.n;

  it('outcomes that arrive while a group is committing are committed together, each job with its own audit event', async () => {
    const jobs = await claimedRemovals(4);
    const recorder = new SuccessRecorder(w.worker);
    const contexts = await Promise.all(jobs.map((job) => loadGrantContext(store.db, job.grant_id)));
    const results = await Promise.all(jobs.map((job, i) => recorder.record(job, contexts[i]!, OUTCOME)));

    assert.deepEqual(results, ['done', 'done', 'done', 'done']);
    const rows = await jobRows(jobs.map((j) => j.id));
    assert.deepEqual(rows.map((r) => r.state), ['done', 'done', 'done', 'done']);
    // The first outcome finds nobody committing and goes alone; the three behind it share the next transaction.
    assert.equal(new Set(rows.map((r) => r.tx)).size, 2, 'two transactions for four jobs');
    assert.equal(await deprovisionedEvents(jobs.map((j) => j.grant_id)), 4);
    assert.equal(await chainHolds(store), true, 'the audit chain verifies');
  });

  it('a job whose recording fails is that job\'s alone: the rest of its group is recorded, and the failed one stays claimed for a retry', async () => {
    const jobs = await claimedRemovals(3);
    const recorder = new SuccessRecorder(w.worker);
    const contexts = await Promise.all(jobs.map((job) => loadGrantContext(store.db, job.grant_id)));
    // An owner that does not exist: the leftovers finding for the last job cannot be written (a foreign key refuses it).
    const broken = { ...contexts[2]!, technicalOwnerId: randomUUID() };
    const results = await Promise.allSettled([
      recorder.record(jobs[0]!, contexts[0]!, OUTCOME),
      recorder.record(jobs[1]!, contexts[1]!, OUTCOME),
      recorder.record(jobs[2]!, broken, { ...OUTCOME, lastOnSystem: true, leftovers: ['owns table public.notes'] }),
    ]);

    assert.deepEqual(results.map((r) => r.status), ['fulfilled', 'fulfilled', 'rejected']);
    assert.deepEqual((await jobRows([jobs[0]!.id, jobs[1]!.id])).map((r) => r.state), ['done', 'done']);
    assert.deepEqual((await jobRows([jobs[2]!.id])).map((r) => r.state), ['running'], 'nothing of the failed job was written');
    assert.equal(await deprovisionedEvents(jobs.map((j) => j.grant_id)), 2);
    assert.equal(await chainHolds(store), true, 'the audit chain verifies');
  });
});
