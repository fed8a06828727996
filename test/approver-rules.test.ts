import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { parse, stringify } from 'yaml';
import { BACKENDS, freshStore } from './support/backends.js';
import { applyPolicyText } from './support/provisioning-world.js';
import { startService, type Service } from './support/service.js';
import { DAY, LIFECYCLE_POLICY } from './support/world.js';

/**
 * Who may approve whom (policy `approval.rules`), through the HTTP API: each rule keeps someone
 * who is not a party, and would otherwise be an eligible approver, away from a stage, both from the
 * stage's stored approvers (the inbox) and at the decision, with the rule named; a legitimate
 * approver then decides, and with the rule switched off by name the same person may.
 * The cast: Sid is a second security officer who also manages Cora, a contractor sponsored by Sam;
 * Vic works for Acme Integrators and is the technical owner of crm; Cody is Acme's contractor.
 */

type Rules = Partial<Record<'accountable_not_security' | 'not_same_vendor' | 'not_conflicting_holder', boolean>>;

const policy = (rules: Rules = {}) => {
  const doc = parse(readFileSync(LIFECYCLE_POLICY, 'utf8')) as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- a YAML document edited in place
  doc.groups.secops = ['selma', 'sid'];
  doc.systems.crm.technical_owner = 'vic';
  doc.approval.rules = rules;
  return stringify(doc);
};

interface Stage { kind: string; status: string; approvers: string[] }

for (const backend of BACKENDS) {
  describe(`who may approve whom: the policy's approver rules hold on every decision (${backend})`, () => {
    let s: Service;
    const expect = async (as: string, method: 'POST' | 'GET', url: string, body: unknown, status: number) => {
      const res = await s.call(method, url, { as, body });
      assert.equal(res.statusCode, status, `${as} ${method} ${url}: ${res.body}`);
      return res.json() as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- each route answers its own shape
    };
    const ask = async (as: string, entitlement: string, extra: Record<string, unknown> = {}) =>
      (await expect(as, 'POST', '/v1/requests', { entitlement, justification: 'work', ticket: 'CHG-1', duration: '2h', ...extra }, 201)).id as string;
    const stages = async (id: string) => (await expect('ivan', 'GET', `/v1/requests/${id}`, undefined, 200)).stages as Stage[];
    const approve = (as: string, id: string, status: number) => expect(as, 'POST', `/v1/requests/${id}/approve`, {}, status);
    /** Someone the rule kept off the stage's approvers, who may not read every request, is told it does not exist. */
    const hiddenFrom = async (as: string, id: string) => assert.equal((await approve(as, id, 404)).code, 'request.not_found');
    /** Someone who can see the request (a security officer, or an approver routed before the rule applied) is told the rule. */
    const refusedBy = async (as: string, id: string, rule: string) => {
      const problem = await approve(as, id, 403);
      assert.equal(problem.code, 'request.approver_rule_forbidden', JSON.stringify(problem));
      assert.match(problem.detail as string, new RegExp(`approval\\.rules\\.${rule}`));
      return problem;
    };
    const engage = (identity: string, vendor: string, scope: string[]) => expect('ivan', 'POST', '/v1/engagements', {
      identity, vendor, businessFunction: 'Finance', purpose: 'Rules', pattern: 'system_integrator', dataSensitivity: 'internal', scope,
      endsAt: new Date(s.world.clock.now().getTime() + 30 * DAY).toISOString() }, 201);

    before(async () => {
      s = await startService(await freshStore(backend));
      await expect('ivan', 'POST', '/v1/identities', { handle: 'sid', displayName: 'Sid Security', kind: 'employee' }, 201);
      await expect('ivan', 'POST', '/v1/identities', { handle: 'vic', displayName: 'Vic of Acme', kind: 'vendor_operator', sponsor: 'sam', vendor: 'Acme Integrators' }, 201);
      await expect('ivan', 'POST', '/v1/identities', { handle: 'cora', displayName: 'Cora Contractor', kind: 'contractor', sponsor: 'sam', manager: 'sid' }, 201);
      await expect('ivan', 'POST', '/v1/identities', { handle: 'cody', displayName: 'Cody Contractor', kind: 'contractor', sponsor: 'sam' }, 201);
      await applyPolicyText(s.world, policy());
      await engage('cora', 'Acme Integrators', ['payments']);
      await engage('cody', 'Acme Integrators', ['crm']);
    });
    after(async () => { await s?.app.close(); await s?.world.store.close(); });

    it("the beneficiary's manager, a security officer, never decides the security stage for them; another officer does", async () => {
      const id = await ask('cora', 'payments/admin');
      assert.deepEqual((await stages(id)).find((stage) => stage.kind === 'security')?.approvers, ['selma'], 'sid is not among the stored approvers');
      await approve('sam', id, 200);
      await approve('olivia', id, 200);
      await refusedBy('sid', id, 'accountable_not_security');
      assert.ok((await approve('selma', id, 200)).grantId, 'selma grants it');
    });

    it("nobody who works for the beneficiary's vendor approves, even as the system's owner; the other owner does", async () => {
      const id = await ask('cody', 'crm/read');
      assert.deepEqual((await stages(id)).find((stage) => stage.kind === 'system_owner')?.approvers, ['olivia'], 'vic is not among the stored approvers');
      await approve('sam', id, 200);
      await hiddenFrom('vic', id);
      assert.ok((await approve('olivia', id, 200)).grantId, 'olivia grants it');
    });

    it('an owner who has since asked for the other side of a separation-of-duties rule is refused by name, though routed to before', async () => {
      const id = await ask('carl', 'payments/initiate');
      assert.deepEqual((await stages(id)).find((stage) => stage.kind === 'system_owner')?.approvers.sort(), ['olivia', 'tom']);
      await ask('olivia', 'payments/approve', { duration: '7d' });
      await approve('sam', id, 200);
      const problem = await refusedBy('olivia', id, 'not_conflicting_holder');
      assert.match(problem.detail as string, /payments\/approve.*payments-maker-checker/);
      assert.ok((await approve('tom', id, 200)).grantId, 'tom grants it');
      const later = await ask('eve', 'payments/initiate');
      assert.deepEqual((await stages(later)).find((stage) => stage.kind === 'system_owner')?.approvers, ['tom'], 'a request filed now is not routed to olivia');
    });

    it('an owner who holds one side does not approve the other side for someone else', async () => {
      const [pending] = (await expect('selma', 'GET', '/v1/requests?view=all&status=pending&beneficiary=olivia', undefined, 200)).items as { id: string }[];
      assert.ok(pending, "olivia's own request is pending");
      await approve('selma', pending.id, 200);
      assert.ok((await approve('tom', pending.id, 200)).grantId, 'olivia now holds payments/approve');
      const id = await ask('ivan', 'payments/initiate');
      assert.deepEqual((await stages(id)).find((stage) => stage.kind === 'system_owner')?.approvers, ['tom'], 'holding it keeps olivia off, as asking did');
      await approve('selma', id, 200);
      await hiddenFrom('olivia', id);
      assert.ok((await approve('tom', id, 200)).grantId, 'tom grants it');
    });

    it('each rule switched off by name in the policy lets the same person decide, and the plan shows the switch', async () => {
      const off = policy({ accountable_not_security: false, not_same_vendor: false, not_conflicting_holder: false });
      const plan = await expect('ivan', 'POST', '/v1/policy/plan', { files: [{ name: 'policy.yaml', content: off }] }, 200);
      for (const rule of ['accountable_not_security', 'not_same_vendor', 'not_conflicting_holder']) {
        assert.ok((plan.lines as string[]).some((line) => line.includes(`approval.rules.${rule}`) && line.includes('off')), `${rule} in ${plan.lines}`);
      }
      await applyPolicyText(s.world, off);
      const admin = await ask('cora', 'crm/read', { duration: '1h' });
      assert.ok((await stages(admin)).find((stage) => stage.kind === 'security')?.approvers.includes('sid'), 'sid may take the security stage');
      await approve('sam', admin, 200);
      await approve('vic', admin, 200);
      assert.ok((await approve('sid', admin, 200)).grantId, 'sid decides the last stage');
    });
  });
}
