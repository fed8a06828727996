import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { randomBytes } from 'node:crypto';
import { revokeGrant } from '../src/operations/revoke-grant.js';
import { openPostgres, type Store } from '../src/store/database.js';
import { auditKeyEnv } from './support/audit-key.js';
import { BACKENDS } from './support/backends.js';
import { grantThrough } from './support/flows.js';
import { createScratchDatabase } from './support/postgres-server.js';
import { buildProvisioningWorld, startPgTarget, type PgTarget } from './support/provisioning-world.js';
import { startTenure, type TenureProcess } from './support/tenure-process.js';
import type { World } from './support/world.js';

/**
 * Issue 15, observation 8: the worker does not wait for a fixed poll to remove access. Here its poll
 * is ten minutes, so every removal below can only come from waking at the grant's end, or from the
 * change feed when another process revokes. The bounds are generous: speed is in `npm run bench`.
 */
const BOUND_MS = 20_000;

describe('the worker removes access at the end, not at its next poll', { skip: !BACKENDS.includes('postgres') }, () => {
  let target: PgTarget;
  let scratch: Awaited<ReturnType<typeof createScratchDatabase>>;
  let store: Store;
  let w: World;
  let worker: TenureProcess;
  const membershipsOf = async (handle: string) => (await target.memberships()).filter((m) => m.startsWith(`${target.prefix}${handle} `));
  const until = async (what: string, done: () => Promise<boolean>, bound: number) => {
    const give = Date.now() + bound;
    while (!(await done())) {
      if (Date.now() > give) throw new Error(`${what} did not happen within ${bound} ms:\n${worker.log()}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  };
  /** The worker's JSON log lines (stderr is not a terminal), in order; `msg` names the step. A line still being written is left out. */
  const passLines = () => worker.log().split('\n').flatMap((line) => {
    try { return [JSON.parse(line) as Record<string, unknown>]; } catch { return []; }
  });
  const expiredOne = (line: Record<string, unknown>) => line.msg === 'lifecycle' && line.grantsExpired === 1;
  const removedOne = (line: Record<string, unknown>) => line.msg === 'provisioning' && line.done === 1;
  /** Grants made here carry the real time, as the worker's clock does. */
  const now = () => { w.clock.advance(Math.max(0, Date.now() - w.clock.now().getTime())); };

  before(async () => {
    target = await startPgTarget();
    scratch = await createScratchDatabase();
    store = await openPostgres(scratch.url);
    w = await buildProvisioningWorld(store, target, {}, new Date().toISOString());
    worker = await startTenure(['worker'], { ...auditKeyEnv(), DATABASE_URL: scratch.url, TENURE_ACTOR: '', TENURE_WORKER_INTERVAL_MS: '600000',
      TENURE_WEBHOOK_KEY: randomBytes(32).toString('base64') }, /worker running/);
  });
  after(async () => {
    await worker?.stop();
    await store?.close(); await scratch?.drop(); await target?.stop();
  });

  it('a grant is provisioned, then removed in the target soon after its end, with a ten-minute poll', async () => {
    now();
    await grantThrough(w, 'eve', { entitlement: 'payments/read', justification: 'short look', duration: '8s' }, ['sam', 'olivia']);
    // Provisioning comes from the change feed: the approval, committed here, woke the worker.
    await until('provisioning', async () => (await membershipsOf('eve')).length === 1, BOUND_MS);
    await until('removal after the end', async () => (await membershipsOf('eve')).length === 0, 8_000 + BOUND_MS);
    // The pass logs once its removal is committed, a moment after the target shows it.
    await until('the pass that expired it to log', async () => passLines().some(expiredOne), BOUND_MS);
    const lines = passLines();
    const expired = lines.findIndex(expiredOne);
    assert.ok(lines.slice(0, expired).some(removedOne), 'provisioned before the end');
    assert.ok(removedOne(lines[expired + 1] ?? {}), 'the expiry and its removal came in one pass');
  });

  it('a revocation made by another process is removed without waiting for the poll', async () => {
    now();
    const grant = await grantThrough(w, 'carl', { entitlement: 'payments/read', justification: 'migration', duration: '1d' }, ['sam', 'olivia']);
    await until('provisioning', async () => (await membershipsOf('carl')).length === 1, BOUND_MS);
    now();
    await revokeGrant(await w.as('sam'), { grant, reason: 'done early' });
    await until('removal after the revocation', async () => (await membershipsOf('carl')).length === 0, BOUND_MS);
  });
});
