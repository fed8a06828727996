import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { count } from 'drizzle-orm';
import { parse, stringify } from 'yaml';
import { accessRequests } from '../src/store/schema.js';
import { BACKENDS, freshStore } from './support/backends.js';
import { applyPolicyText } from './support/provisioning-world.js';
import { startService, type Service } from './support/service.js';
import { LIFECYCLE_POLICY } from './support/world.js';

/**
 * Evidence by tier, identity kind and engagement pattern, through the HTTP API: privileged access
 * needs a change or incident ticket and a real justification; a system integrator's standard access
 * goes to security too; an employee's read access needs only their manager. A refused request
 * leaves nothing behind, and the catalogue tells the requester beforehand.
 */
const policy = () => {
  const doc = parse(readFileSync(LIFECYCLE_POLICY, 'utf8')) as Record<string, unknown>;
  doc.evidence = {
    'privileged-change': { when: { tier: ['privileged'] }, ticket: '(INC|CHG)-[0-9]+', min_justification: 20 },
    'integrators-to-security': { when: { tier: ['standard'], pattern: ['system_integrator'] }, extra_stage: 'security' },
    'staff-read': { when: { tier: ['read'], kind: ['employee'] }, single_stage: true },
    'integrators-short': { when: { tier: ['read'], pattern: ['system_integrator'] }, max_duration: '3d' },
  };
  return stringify(doc);
};

for (const backend of BACKENDS) {
  describe(`evidence by tier, kind and engagement pattern is asked for before a request is filed (${backend})`, () => {
    let s: Service;
    const ask = (as: string, body: Record<string, unknown>) =>
      s.call('POST', '/v1/requests', { as, body: { justification: 'Quarter-end reconciliation of payment batches', duration: '2h', ...body } });
    const requestCount = async () => (await s.world.store.db.select({ n: count() }).from(accessRequests))[0]!.n;

    before(async () => {
      s = await startService(await freshStore(backend));
      await applyPolicyText(s.world, policy());
    });
    after(async () => { await s?.app.close(); await s?.world.store.close(); });

    it('privileged access without a change or incident ticket, with another kind of ticket, or with a short reason is refused by field, and nothing is filed', async () => {
      const before = await requestCount();
      const cases: [Record<string, unknown>, string, RegExp][] = [
        [{}, 'ticket', /privileged-change requires a ticket/],
        [{ ticket: 'FIN-101' }, 'ticket', /matching \(INC\|CHG\)-\[0-9\]\+/],
        [{ ticket: 'see CHG-1 later' }, 'ticket', /matching/],
        [{ ticket: 'CHG-1', justification: 'because' }, 'justification', /at least 20 characters/],
      ];
      for (const [body, field, message] of cases) {
        const res = await ask('carl', { entitlement: 'payments/admin', ...body });
        assert.equal(res.statusCode, 422, res.body);
        assert.equal(res.headers['content-type'], 'application/problem+json; charset=utf-8');
        const problem = res.json() as { code: string; field: string; detail: string };
        assert.equal(problem.code, 'request.evidence_required');
        assert.equal(problem.field, field);
        assert.match(problem.detail, message);
      }
      assert.equal(await requestCount(), before, 'no refused request left a row');
      const ok = await ask('carl', { entitlement: 'payments/admin', ticket: 'CHG-1042' });
      assert.equal(ok.statusCode, 201, ok.body);
    });

    it("a system integrator's standard access is routed to security too, and the catalogue says so beforehand", async () => {
      const catalogue = await s.call('GET', '/v1/catalogue', { as: 'carl' });
      const items = (catalogue.json() as { items: { key: string; route: string[]; evidence: { rules: string[]; ticketRequired: boolean; ticketPatterns: string[] } }[] }).items;
      const initiate = items.find((i) => i.key === 'payments/initiate')!;
      assert.deepEqual(initiate.route, ['sponsor', 'system_owner', 'security']);
      assert.deepEqual(initiate.evidence.rules, ['integrators-to-security']);
      const admin = items.find((i) => i.key === 'payments/admin')!;
      assert.deepEqual([admin.evidence.ticketRequired, admin.evidence.ticketPatterns], [true, ['(INC|CHG)-[0-9]+']]);
      const res = await ask('carl', { entitlement: 'payments/initiate', ticket: 'T-1' });
      assert.equal(res.statusCode, 201, res.body);
      assert.deepEqual((res.json() as { stages: { kind: string }[] }).stages.map((st) => st.kind), ['sponsor', 'system_owner', 'security']);
    });

    it("a system integrator's read access lasts at most 3 days, where the durations section allows 90: refused past it, and the catalogue says so", async () => {
      const long = await ask('carl', { entitlement: 'payments/read', duration: '4d' });
      assert.equal(long.statusCode, 422, long.body);
      const problem = long.json() as { code: string; field: string; detail: string };
      assert.deepEqual([problem.code, problem.field], ['request.exceeds_max_duration', 'endsAt']);
      assert.match(problem.detail, /integrators-short may last at most 3d/);
      const items = (await s.call('GET', '/v1/catalogue', { as: 'carl' })).json() as { items: { key: string; maxDuration: string }[] };
      assert.equal(items.items.find((i) => i.key === 'payments/read')!.maxDuration, '3d');
      assert.equal((await ask('carl', { entitlement: 'payments/read', duration: '3d' })).statusCode, 201);
    });

    it("an employee's read access needs only their manager; their standard access still has both stages", async () => {
      const read = await ask('eve', { entitlement: 'crm/read' });
      assert.equal(read.statusCode, 201, read.body);
      const id = (read.json() as { id: string; stages: { kind: string }[] }).id;
      assert.deepEqual((read.json() as { stages: { kind: string }[] }).stages.map((st) => st.kind), ['sponsor']);
      const approved = await s.call('POST', `/v1/requests/${id}/approve`, { as: 'sam', body: {} });
      assert.ok((approved.json() as { grantId: string | null }).grantId, approved.body);
      const standard = await ask('eve', { entitlement: 'payments/approve' });
      assert.deepEqual((standard.json() as { stages: { kind: string }[] }).stages.map((st) => st.kind), ['sponsor', 'system_owner']);
    });
  });
}
