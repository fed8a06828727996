import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { eq, sql } from 'drizzle-orm';
import { TenureError } from '../src/domain/errors.js';
import { runLifecycleTick } from '../src/jobs/lifecycle.js';
import { approveRequest } from '../src/operations/approve-request.js';
import { createRequest } from '../src/operations/create-request.js';
import { revokeGrant } from '../src/operations/revoke-grant.js';
import { rawRows, type Store } from '../src/store/database.js';
import { accessRequests, grants } from '../src/store/schema.js';
import { freshStore } from './support/backends.js';
import { seedDueGrants } from './support/flows.js';
import { buildWorld, type World } from './support/world.js';

/** Concurrency is only meaningful with several connections: these run on the PostgreSQL server. */
describe('concurrent decisions and workers on the PostgreSQL server', { skip: process.env.TENURE_TEST_BACKENDS === 'embedded' }, () => {
  let store: Store;
  let w: World;
  before(async () => { store = await freshStore('postgres', { poolSize: 8 }); w = await buildWorld(store); });
  after(async () => { await store.close(); });

  it('two owners approving the same stage at once give one decision and one grant', async () => {
    for (let round = 0; round < 10; round += 1) {
      const entitlement = round % 2 === 0 ? 'payments/read' : 'crm/read';
      const beneficiary = round % 2 === 0 ? 'eve' : 'bot';
      // Tom owns the bot, so he is a party to its requests: its sponsor stage goes to the policy's
      // alternate (selma), and of the system's owners only Olivia may decide.
      const first = round % 2 === 0 ? 'sam' : 'selma';
      const req = await createRequest(await w.as('ivan'), { beneficiary, entitlement, justification: `round ${round}`, duration: '1h' });
      await approveRequest(await w.as(first), { request: req.id });
      const owners = round % 2 === 0 ? ['olivia', 'tom'] : ['olivia'];
      const attempts = await Promise.allSettled([...owners, ...owners].map(async (o) => approveRequest(await w.as(o), { request: req.id })));
      const won = attempts.filter((a) => a.status === 'fulfilled');
      assert.equal(won.length, 1, `round ${round}: exactly one approval wins`);
      for (const lost of attempts.filter((a): a is PromiseRejectedResult => a.status === 'rejected')) {
        assert.ok(lost.reason instanceof TenureError && ['request.not_pending', 'request.second_stage_forbidden'].includes(lost.reason.code), String(lost.reason));
      }
      const made = await store.db.select().from(grants).where(eq(grants.requestId, req.id));
      assert.equal(made.length, 1);
      const [row] = await store.db.select().from(accessRequests).where(eq(accessRequests.id, req.id));
      assert.equal(row?.grantId, made[0]?.id);
      await revokeGrant(await w.as('ivan'), { grant: made[0]!.id, reason: 'free the entitlement for the next round' });
    }
  });

  it('several workers expiring the same due grants end each exactly once, with one audit event each', async () => {
    await seedDueGrants(store.db, w, 3000);
    const ticks = await Promise.all([1, 2, 3, 4].map(() => runLifecycleTick(w.worker, { batchSize: 200 })));
    assert.equal(ticks.reduce((sum, t) => sum + t.grantsExpired, 0), 3000);
    const [counts] = await rawRows<{ events: number; distinct_grants: number }>(store.db,
      sql`SELECT count(*)::int AS events, count(DISTINCT subject_id)::int AS distinct_grants FROM audit_events WHERE action = 'grant.expired'`);
    assert.deepEqual(counts, { events: 3000, distinct_grants: 3000 });
  });
});
