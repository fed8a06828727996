import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { inArray } from 'drizzle-orm';
import { renderEvidenceHtml } from '../src/evidence/render-html.js';
import { runProvisioningPass } from '../src/jobs/provisioning/index.js';
import { buildEvidencePack } from '../src/operations/build-evidence-pack.js';
import { confirmProvisioningTask } from '../src/operations/confirm-provisioning-task.js';
import { listProvisioningJobs } from '../src/operations/list-provisioning-jobs.js';
import { revokeGrant } from '../src/operations/revoke-grant.js';
import type { Store } from '../src/store/database.js';
import { auditEvents } from '../src/store/schema.js';
import { refusedWith } from './support/assert.js';
import { BACKENDS, freshStore } from './support/backends.js';
import { grantThrough } from './support/flows.js';
import { withService } from './support/service.js';
import { buildWorld, type World } from './support/world.js';

const SNEAKY = 'Reconcile March <script>alert("pwned")</script>';

/** Carl's grant through its whole life on a manual system: requested, approved twice, provisioned by hand, revoked, removed by hand. */
const wholeLife = async (w: World): Promise<string> => {
  const grantId = await grantThrough(w, 'carl', { entitlement: 'payments/read', justification: SNEAKY, ticket: 'FIN-7', duration: '7d' }, ['sam', 'olivia']);
  const confirmNext = async (note: string) => {
    await runProvisioningPass(w.worker);
    const [task] = await listProvisioningJobs(await w.as('tom'), { grant: grantId, state: 'awaiting_confirmation' });
    await confirmProvisioningTask(await w.as('tom'), { job: task!.id, note });
  };
  await confirmNext('role granted by hand');
  await revokeGrant(await w.as('sam'), { grant: grantId, reason: 'migration done' });
  await confirmNext('role removed by hand');
  return grantId;
};

for (const backend of BACKENDS) {
  describe(`evidence packs for auditors (${backend})`, () => {
    let store: Store;
    let w: World;
    let grantId: string;
    before(async () => { store = await freshStore(backend); w = await buildWorld(store); grantId = await wholeLife(w); });
    after(async () => { await store?.close(); });

    it('an identity\'s pack holds the request, each approval with its approver and stage, the grant, the revocation and its confirmation', async () => {
      const pack = await buildEvidencePack(await w.as('audrey'), { subject: 'identity', ref: 'carl' });
      assert.equal(pack.sections.requests!.find((e) => e.action === 'request.created')?.reason, SNEAKY);
      assert.deepEqual(pack.sections.approvals!.map((e) => [e.actor, (e.after as { kind: string }).kind]), [['sam', 'sponsor'], ['olivia', 'system_owner']]);
      assert.ok(pack.sections.grants!.some((e) => e.action === 'grant.created' && e.subject.id === grantId));
      const removals = pack.sections.removals!.filter((e) => e.subject.id === grantId || e.action === 'provisioning.task_confirmed');
      assert.deepEqual(removals.map((e) => e.action), ['grant.revoked', 'provisioning.task_confirmed', 'grant.deprovisioned']);
      const grant = pack.grants.find((g) => g.id === grantId)!;
      assert.equal(grant.provisioningState, 'deprovisioned');
      assert.equal((grant.provisioningEvidence as { note: string }).note, 'role removed by hand');
    });

    it('every line carries its chain position and the hash the audit log holds there, up to the head', async () => {
      const pack = await buildEvidencePack(await w.as('audrey'), { subject: 'identity', ref: 'carl' });
      const rows = await store.db.select({ seq: auditEvents.seq, hash: auditEvents.hash }).from(auditEvents)
        .where(inArray(auditEvents.seq, pack.timeline.map((e) => e.seq)));
      const stored = new Map(rows.map((r) => [Number(r.seq), r.hash]));
      for (const e of pack.timeline) assert.equal(stored.get(e.seq), e.hash, `event ${e.seq}`);
      assert.ok(pack.chainHead!.seq >= Math.max(...pack.timeline.map((e) => e.seq)));
    });

    it('a system\'s pack covers it too, and only those who may read the audit log get one', async () => {
      const pack = await buildEvidencePack(await w.as('selma'), { subject: 'system', ref: 'payments' });
      assert.ok(pack.timeline.some((e) => e.subject.id === grantId));
      await refusedWith(buildEvidencePack(await w.as('carl'), { subject: 'identity', ref: 'carl' }), 'actor.forbidden');
      await refusedWith(buildEvidencePack(await w.as('audrey'), { subject: 'system', ref: 'nowhere' }), 'system.not_found', 'ref');
    });

    it('the HTML page escapes what people typed, and loads nothing from anywhere', async () => {
      const html = renderEvidenceHtml(await buildEvidencePack(await w.as('audrey'), { subject: 'identity', ref: 'carl' }));
      assert.ok(!html.includes('<script'), 'no script, not even one typed into a reason');
      assert.ok(html.includes('&lt;script&gt;alert(&quot;pwned&quot;)&lt;/script&gt;'));
      assert.ok(!/(src|href)=/.test(html));
      assert.match(html, /<h1>Evidence: identity carl<\/h1>/);
    });
  });
}

describe('evidence packs over HTTP', () => {
  it('an auditor gets the pack as JSON; the contractor it is about does not', async () => {
    await withService(async (s) => {
      await wholeLife(s.world);
      const ok = await s.call('GET', '/v1/evidence/identity/carl', { as: 'audrey' });
      assert.equal(ok.statusCode, 200, ok.body);
      assert.ok((ok.json() as { timeline: unknown[] }).timeline.length > 5);
      assert.equal((await s.call('GET', '/v1/evidence/identity/carl', { as: 'carl' })).statusCode, 403);
      assert.equal((await s.call('GET', '/v1/evidence/team/carl', { as: 'audrey' })).statusCode, 400);
    });
  });
});
