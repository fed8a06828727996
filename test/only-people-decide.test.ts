import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { eq } from 'drizzle-orm';
import { newId } from '../src/domain/ids.js';
import type { Context } from '../src/work/context.js';
import { approveRequest } from '../src/operations/approve-request.js';
import { confirmProvisioningTask } from '../src/operations/confirm-provisioning-task.js';
import { createRequest } from '../src/operations/create-request.js';
import { denyRequest } from '../src/operations/deny-request.js';
import { reconcileSystems } from '../src/operations/reconcile-system.js';
import { releaseHeldRevocations } from '../src/operations/release-held-revocations.js';
import { resolveFinding } from '../src/operations/resolve-finding.js';
import { reviewBreakGlass } from '../src/operations/review-break-glass.js';
import { startBreakGlass } from '../src/operations/start-break-glass.js';
import type { Store } from '../src/store/database.js';
import { requestStages, roleAssignments } from '../src/store/schema.js';
import { refusedWith } from './support/assert.js';
import { BACKENDS, freshStore } from './support/backends.js';
import { breakGlassPolicy } from './support/break-glass-policy.js';
import { applyPolicyText } from './support/provisioning-world.js';
import { withService } from './support/service.js';
import { buildWorld, type World } from './support/world.js';

/**
 * The worst case: a misconfiguration (a hand-edited database, a bad migration) gives the service
 * account `bot` every administrative role and puts it on a request's approval stage. Every path
 * where a person decides must still refuse it.
 */
const misconfigure = async (w: World, requestId: string) => {
  const bot = await w.id('bot');
  for (const role of ['admin', 'security', 'iam'] as const) await w.store.db.insert(roleAssignments).values({ identityId: bot, role, source: 'policy' });
  await w.store.db.update(requestStages).set({ approverIds: [bot] }).where(eq(requestStages.requestId, requestId));
};

for (const backend of BACKENDS) {
  describe(`only people decide: no service account approves, reviews, confirms or accepts, on any path (${backend})`, () => {
    let store: Store;
    let w: World;
    let bot: Context;
    let requestId: string;
    let reviewId: string;
    before(async () => {
      store = await freshStore(backend);
      w = await buildWorld(store);
      await applyPolicyText(w, breakGlassPolicy());
      requestId = (await createRequest(await w.as('carl'), { entitlement: 'payments/read', justification: 'reports', duration: '1d' })).id;
      reviewId = (await startBreakGlass(await w.as('eve'), { entitlement: 'payments/admin', incident: 'INC-1', reason: 'outage' })).reviewId;
      await misconfigure(w, requestId);
      bot = await w.as('bot');
    });
    after(async () => { await store?.close(); });

    const cases: [string, () => Promise<unknown>][] = [
      ['approving a request stage it was put on', () => approveRequest(bot, { request: requestId })],
      ['denying that request', () => denyRequest(bot, { request: requestId, reason: 'no' })],
      ['reviewing a break-glass use, with the security role', () => reviewBreakGlass(bot, { review: reviewId, outcome: 'appropriate', comment: 'ok' })],
      ['letting revocations held by the brake go', () => releaseHeldRevocations(bot, { system: 'payments', reason: 'ok' })],
      ['confirming a mass removal past the brake', () => reconcileSystems(bot, { system: 'payments', revoke: true, confirmMassRevoke: true })],
      ['resolving (accepting) a finding', () => resolveFinding(bot, { finding: newId(), resolution: 'accepted' })],
      ['confirming a manual provisioning task', () => confirmProvisioningTask(bot, { job: newId(), note: 'done' })],
    ];
    for (const [path, attempt] of cases) {
      it(`refuses ${path}`, async () => { await refusedWith(attempt(), 'actor.not_a_person'); });
    }

    it('nothing was decided: the request still waits for a person at its first stage', async () => {
      const stages = await store.db.select().from(requestStages).where(eq(requestStages.requestId, requestId));
      assert.ok(stages.every((s) => s.decidedBy === null));
    });
  });
}

describe('only people decide, over HTTP with a service account\'s token', () => {
  it('approving with a token of a service account is refused with actor.not_a_person', async () => {
    await withService(async (s) => {
      const created = await s.call('POST', '/v1/requests', { as: 'carl', body: { entitlement: 'payments/read', justification: 'reports', duration: '1d' } });
      const { id } = created.json() as { id: string };
      await misconfigure(s.world, id);
      const approved = await s.call('POST', `/v1/requests/${id}/approve`, { as: 'bot', body: {} });
      assert.equal(approved.statusCode, 403);
      assert.equal((approved.json() as { code: string }).code, 'actor.not_a_person');
      const bulk = await s.call('POST', '/v1/requests/approvals', { as: 'bot', body: { requests: [id] } });
      assert.equal((bulk.json() as { results: { problem: { code: string } | null }[] }).results[0]?.problem?.code, 'actor.not_a_person');
    });
  });
});
