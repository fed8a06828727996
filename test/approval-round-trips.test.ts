import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { eq } from 'drizzle-orm';
import { TenureError } from '../src/domain/errors.js';
import { approveRequest } from '../src/operations/approve-request.js';
import { createRequest } from '../src/operations/create-request.js';
import { engagements } from '../src/store/schema.js';
import { inTransaction } from '../src/work/context.js';
import { lockRequestAndBeneficiary } from '../src/operations/lib/approval/decision.js';
import { BACKENDS, freshStore } from './support/backends.js';
import { applyPolicyText } from './support/provisioning-world.js';
import { countStatements } from './support/statement-count.js';
import { buildWorld, LIFECYCLE_POLICY, type World } from './support/world.js';

/**
 * Each statement of a stage decision is a round trip to the server (issue 20). Carl, a contractor
 * with an engagement, takes the longest path: his grant's window comes from the engagement.
 * Before issue 20: 17 statements for a first stage, 25 for the last. Now: 14 and 21.
 */
const FIRST_STAGE = 14;
const LAST_STAGE = 21;

const ask = async (w: World, handle: string, entitlement = 'payments/read') =>
  (await createRequest(await w.as(handle), { entitlement, justification: 'quarter close', duration: '1d', ticket: 'FIN-1' })).id;

const refusal = async (call: Promise<unknown>): Promise<string> => {
  try {
    await call;
    return 'none';
  } catch (error) {
    if (error instanceof TenureError) return error.code;
    throw error;
  }
};

describe('a stage decision on the server, counted in statements', () => {
  let world: World;
  before(async () => {
    world = await buildWorld(await freshStore('postgres'));
    // The process reads the applied policy once per revision: the counts below are the steady state.
    await approveRequest(await world.as('sam'), { request: await ask(world, 'eve') });
  });
  after(async () => { await world?.store.close(); });

  it(`a first stage costs ${FIRST_STAGE} statements and the last one ${LAST_STAGE}, BEGIN and COMMIT included`, async () => {
    const [request, sam, olivia] = [await ask(world, 'carl'), await world.as('sam'), await world.as('olivia')];
    const first = await countStatements(() => approveRequest(sam, { request }));
    assert.equal(first.result.status, 'pending');
    assert.equal(first.statements.length, FIRST_STAGE, first.statements.join('\n'));
    const last = await countStatements(() => approveRequest(olivia, { request }));
    assert.equal(last.result.status, 'approved');
    assert.equal(last.statements.length, LAST_STAGE, last.statements.join('\n'));
  });

  it("while a decision holds its locks, the beneficiary's engagement cannot be ended under it", async () => {
    const request = await ask(world, 'carl', 'payments/approve');
    let lockedOut = 'not tried';
    await inTransaction(await world.as('sam'), async (work) => {
      await lockRequestAndBeneficiary(work, request);
      // Another connection: the engagement is held FOR SHARE by the decision's request statement.
      lockedOut = await refusal(world.store.db.transaction(async (tx) => {
        await tx.select().from(engagements).where(eq(engagements.id, world.engagementId)).for('update', { noWait: true });
      })).catch((error: unknown) => String((error as { cause?: { code?: string } }).cause?.code ?? error));
    });
    assert.equal(lockedOut, '55P03', 'lock_not_available: the engagement was share-locked by the decision');
  });
});

for (const backend of BACKENDS) {
  describe(`the policy a decision uses is the one applied last (${backend})`, () => {
    let world: World;
    before(async () => { world = await buildWorld(await freshStore(backend)); });
    after(async () => { await world?.store.close(); });

    it('a policy applied between two stages of a request decides the second: the kept one is never served stale', async () => {
      const request = await ask(world, 'carl');
      await approveRequest(await world.as('sam'), { request });
      // A day of read access was within 90 days; now any access may last four hours at most, checked again at the last stage.
      const short = readFileSync(LIFECYCLE_POLICY, 'utf8').replace(/^ {2}(privileged|standard|read): \{.*\}$/gm, '  $1: { default: 4h }');
      await applyPolicyText(world, short);
      assert.equal(await refusal(approveRequest(await world.as('olivia'), { request })), 'request.exceeds_max_duration');
    });
  });
}
