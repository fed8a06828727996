import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { sql } from 'drizzle-orm';
import { DecisionService, type CheckRequest } from '../src/decision/service.js';
import { changeIdentityStatus } from '../src/operations/change-identity-status.js';
import { revokeGrant } from '../src/operations/revoke-grant.js';
import { openPostgres, type Store } from '../src/store/database.js';
import { BACKENDS, freshStore } from './support/backends.js';
import { grantThrough } from './support/flows.js';
import { createScratchDatabase } from './support/postgres-server.js';
import { buildWorld, type World } from './support/world.js';

/** Waits (bounded, polling every 5 ms) until the answer changes to `reason`; returns how long it took. */
const answerBecomes = async (decisions: DecisionService, request: CheckRequest, reason: string, timeoutMs = 5000): Promise<number> => {
  const start = performance.now();
  while (decisions.check(request).reason !== reason) {
    if (performance.now() - start > timeoutMs) assert.fail(`still ${decisions.check(request).reason} after ${timeoutMs} ms, expected ${reason}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  return performance.now() - start;
};

const READ: CheckRequest = { identity: 'carl', entitlement: 'payments/read' };

describe('changes made by another process reach the index by LISTEN/NOTIFY (postgres)', { skip: !BACKENDS.includes('postgres') }, () => {
  let scratch: Awaited<ReturnType<typeof createScratchDatabase>>;
  let writer: World;
  let reader: Store;
  let decisions: DecisionService;
  before(async () => {
    scratch = await createScratchDatabase();
    writer = await buildWorld(await openPostgres(scratch.url));
    reader = await openPostgres(scratch.url);
    // Polling off: only a notification can bring the change in.
    decisions = await DecisionService.start({ store: reader, clock: writer.clock, databaseUrl: scratch.url, poll: false });
  });
  after(async () => {
    await decisions.stop();
    await reader.close();
    await writer.store.close();
    await scratch.drop();
  });

  it('the listening connection is up after start', () => {
    assert.equal(decisions.status().listening, true);
  });

  it('a grant approved through another connection is allowed without anyone calling sync', async () => {
    await grantThrough(writer, 'carl', { entitlement: 'payments/read', justification: 'report', duration: '2d' }, ['sam', 'olivia']);
    const lag = await answerBecomes(decisions, READ, 'grant_active');
    assert.ok(lag < 2000, `took ${lag} ms`);
  });

  it('a revocation through another connection is denied within moments', async () => {
    const id = await grantThrough(writer, 'carl', { entitlement: 'payments/approve', justification: 'close', duration: '1d' }, ['sam', 'olivia']);
    await answerBecomes(decisions, { identity: 'carl', entitlement: 'payments/approve' }, 'grant_active');
    await revokeGrant(await writer.as('ivan'), { grant: id, reason: 'done' });
    await answerBecomes(decisions, { identity: 'carl', entitlement: 'payments/approve' }, 'grant_ended');
  });

  it('a lost listening connection is opened again and catches up with what it missed', async () => {
    const before = decisions.status().seq;
    const killed = await writer.store.db.execute(sql`SELECT pg_terminate_backend(pid) FROM pg_stat_activity
      WHERE datname = current_database() AND query = 'LISTEN tenure_changes'`);
    assert.equal((killed as unknown as { rows: unknown[] }).rows.length, 1);
    await grantThrough(writer, 'carl', { entitlement: 'payments/initiate', justification: 'batch', duration: '1d' }, ['sam', 'olivia']);
    await answerBecomes(decisions, { identity: 'carl', entitlement: 'payments/initiate', context: { ticket: 'CHG-1' } }, 'grant_active');
    assert.ok(decisions.status().seq > before);
    // The catch-up can come before the new connection (it is retried after a second): wait for it, bounded.
    const deadline = performance.now() + 5000;
    while (!decisions.status().listening && performance.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
    assert.equal(decisions.status().listening, true);
  });

  it('a termination through another connection is denied within moments', async () => {
    await changeIdentityStatus(await writer.as('ivan'), { identity: 'carl', status: 'terminated', reason: 'left' });
    await answerBecomes(decisions, READ, 'identity_inactive');
  });
});

for (const backend of BACKENDS) {
  describe(`without notifications, polling picks changes up (${backend})`, () => {
    let w: World;
    let decisions: DecisionService;
    before(async () => {
      w = await buildWorld(await freshStore(backend));
      decisions = await DecisionService.start({ store: w.store, clock: w.clock, pollIntervalMs: 20 });
    });
    after(async () => {
      await decisions.stop();
      await w.store.close();
    });

    it('a grant is allowed after the next poll, without a sync call', async () => {
      await grantThrough(w, 'carl', { entitlement: 'payments/read', justification: 'report', duration: '2d' }, ['sam', 'olivia']);
      await answerBecomes(decisions, READ, 'grant_active');
    });
  });
}
