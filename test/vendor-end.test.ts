import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { and, count, eq, inArray, sql } from 'drizzle-orm';
import { DecisionService } from '../src/decision/service.js';
import { runLifecycleTick } from '../src/jobs/lifecycle.js';
import { runPass } from '../src/jobs/pass.js';
import { changeVendorEnd } from '../src/operations/change-vendor-end.js';
import { changeIdentityStatus } from '../src/operations/change-identity-status.js';
import { createIdentity } from '../src/operations/create-identity.js';
import { createVendor } from '../src/operations/create-vendor.js';
import { registerCredential } from '../src/operations/register-credential.js';
import { retireCredential } from '../src/operations/retire-credential.js';
import { showVendor } from '../src/operations/show-vendor.js';
import { buildVendorEvidence } from '../src/operations/build-vendor-evidence.js';
import type { Store } from '../src/store/database.js';
import { auditEvents, engagements, grants, identities, vendors } from '../src/store/schema.js';
import { credentials } from '../src/store/schema-credentials.js';
import { findings, provisioningJobs } from '../src/store/schema-provisioning.js';
import { refusedWith } from './support/assert.js';
import { BACKENDS, freshStore } from './support/backends.js';
import { auditOf, birthright, carlGets } from './support/review-world.js';
import { buildWorld, DAY, type World } from './support/world.js';

const ACME = 'Acme Integrators';
const FINGERPRINT = `sha256:${'ab'.repeat(32)}`;

for (const backend of BACKENDS) {
  describe(`a vendor's end is everyone's end (${backend})`, () => {
    let store: Store;
    let w: World;
    beforeEach(async () => { store = await freshStore(backend); w = await buildWorld(store); });
    afterEach(async () => { await store.close(); });

    const later = (days: number) => new Date(w.clock.now().getTime() + days * DAY);
    const vendorRow = async () => (await store.db.select().from(vendors).where(eq(vendors.name, ACME)))[0]!;
    const identityRow = async (handle: string) => (await store.db.select().from(identities).where(eq(identities.handle, handle)))[0]!;
    const auditCount = async (action?: string) => Number((await store.db.select({ n: count() }).from(auditEvents)
      .where(action ? eq(auditEvents.action, action) : undefined))[0]!.n);
    const change = async (as: string, contractEnd: Date | string, reason = 'contract amended') =>
      changeVendorEnd(await w.as(as), { vendor: ACME, contractEnd: contractEnd instanceof Date ? contractEnd.toISOString() : contractEnd, reason });

    /** Acme runs a sync account for us (owned by Tom), with a grant and a registered credential; Carl holds two grants. */
    const acmeAtWork = async () => {
      await createIdentity(await w.as('ivan'), { handle: 'acme-sync', displayName: 'Acme sync job', kind: 'service_account', owner: 'tom', operatedBy: ACME });
      const accountGrant = await birthright(w, 'acme-sync', 'payments/read');
      await registerCredential(await w.as('tom'), { identity: 'acme-sync', kind: 'api_key', name: 'sync key', fingerprint: FINGERPRINT });
      const carlGrants = [await carlGets(w, 'payments/read'), await carlGets(w, 'payments/initiate')];
      return { accountGrant, carlGrants };
    };

    it('the relationship owner brings the contract end forward: later engagements and their grants are shortened to it, audited before and after', async () => {
      const [grant] = (await acmeAtWork()).carlGrants;
      const before = (await vendorRow()).contractEnd;
      const result = await change('sam', later(10));
      assert.deepEqual({ ended: result.ended, engagements: result.engagementsShortened, grants: result.grantsShortened },
        { ended: false, engagements: 1, grants: 2 });
      assert.equal((await store.db.select().from(engagements).where(eq(engagements.id, w.engagementId)))[0]!.endsAt.getTime(), later(10).getTime());
      assert.equal((await store.db.select().from(grants).where(eq(grants.id, grant!)))[0]!.endsAt!.getTime(), later(10).getTime());
      const [event] = await auditOf(w, 'vendor.contract_end_changed');
      assert.deepEqual([event!.before, event!.after, event!.reason],
        [{ contractEnd: before.toISOString() }, { contractEnd: later(10).toISOString() }, 'contract amended']);
      assert.equal((await identityRow('acme-sync')).status, 'active', 'an end still to come suspends nobody yet');
    });

    it('an end brought to the past ends everything at once: engagements ended, grants revoked with removal jobs, service accounts suspended, credentials due for retirement', async () => {
      const { accountGrant, carlGrants } = await acmeAtWork();
      const decisions = await DecisionService.start({ store, clock: w.clock, poll: false });
      try {
        for (const [identity, entitlement] of [['carl', 'payments/read'], ['acme-sync', 'payments/read']] as const) {
          const answer = decisions.check({ identity, entitlement });
          assert.equal(answer.decision, 'allow', `${identity} ${entitlement}: ${answer.reason}`);
        }
        const result = await change('ivan', later(-1), 'contract terminated for cause');
        assert.deepEqual({ ended: result.ended, engagements: result.engagementsEnded, accounts: result.accountsSuspended, credentials: result.credentialsDue },
          { ended: true, engagements: 1, accounts: 1, credentials: 1 });
        await decisions.sync();
        for (const [identity, entitlement] of [['carl', 'payments/read'], ['carl', 'payments/initiate'], ['acme-sync', 'payments/read']] as const) {
          assert.equal(decisions.check({ identity, entitlement }).decision, 'deny', `${identity} ${entitlement}`);
        }
      } finally {
        await decisions.stop();
      }
      const all = [accountGrant, ...carlGrants];
      const rows = await store.db.select().from(grants).where(inArray(grants.id, all));
      assert.deepEqual(rows.map((g) => g.status), ['revoked', 'revoked', 'revoked']);
      const removals = await store.db.select().from(provisioningJobs).where(and(inArray(provisioningJobs.grantId, all), eq(provisioningJobs.action, 'deprovision')));
      assert.equal(new Set(removals.map((j) => j.grantId)).size, 3, 'a removal job for every grant');
      assert.equal((await identityRow('acme-sync')).status, 'suspended');
      const [credential] = await store.db.select().from(credentials).where(eq(credentials.fingerprint, FINGERPRINT));
      assert.equal(credential!.retirementDueAt!.getTime(), w.clock.now().getTime());
      assert.ok((await vendorRow()).endAppliedAt, 'carried out, so the worker does not do it again');
      assert.equal((await runLifecycleTick(w.worker)).vendorsEnded, 0);
      assert.equal(await auditCount('vendor.contract_ended'), 1);
    });

    it('a service account suspended by the contract end cannot be reactivated while the end stands; moving the end later allows it', async () => {
      await acmeAtWork();
      await change('ivan', later(-1), 'ended');
      const ivan = await w.as('ivan');
      await refusedWith(changeIdentityStatus(ivan, { identity: 'acme-sync', status: 'active', reason: 'still needed' }), 'vendor.invalid_contract_end', 'identity');
      await change('ivan', later(90), 'contract renewed');
      await changeIdentityStatus(ivan, { identity: 'acme-sync', status: 'active', reason: 'contract renewed' });
      assert.equal((await identityRow('acme-sync')).status, 'active');
    });

    it('the worker pass carries out a contract end when it comes, once, and a second pass does nothing', async () => {
      const { accountGrant } = await acmeAtWork();
      await change('sam', later(5));
      w.clock.advance(5 * DAY - 1);
      assert.equal((await runPass(w.worker)).vendorsEnded, 0, 'not before the end');
      w.clock.advance(1);
      const pass = await runPass(w.worker);
      assert.equal(pass.vendorsEnded, 1);
      assert.equal((await store.db.select().from(engagements).where(eq(engagements.id, w.engagementId)))[0]!.status, 'ended');
      assert.equal((await identityRow('acme-sync')).status, 'suspended');
      assert.equal((await store.db.select().from(grants).where(eq(grants.id, accountGrant)))[0]!.status, 'revoked');
      const again = await runPass(w.worker);
      assert.deepEqual([again.vendorsEnded, again.engagementsEnded], [0, 0]);
      assert.equal(await auditCount('vendor.contract_ended'), 1);
      assert.equal(await auditCount('credential.retirement_due'), 1);
      const [due] = await store.db.select().from(findings).where(eq(findings.kind, 'credential_retirement_due'));
      assert.deepEqual([due!.status, due!.ownerId], ['open', await w.id('tom')], "a finding for the account's owner until the credential is retired");
      const [credential] = await store.db.select().from(credentials).where(eq(credentials.fingerprint, FINGERPRINT));
      await retireCredential(await w.as('tom'), { credential: credential!.id, reason: 'key deleted in the Acme console' });
      assert.equal((await store.db.select().from(findings).where(eq(findings.id, due!.id)))[0]!.status, 'resolved');
    });

    it('moving the end later only moves the date: engagements keep theirs, nothing is shortened', async () => {
      await acmeAtWork();
      const endsAt = (await store.db.select().from(engagements).where(eq(engagements.id, w.engagementId)))[0]!.endsAt;
      const result = await change('ivan', later(400));
      assert.deepEqual([result.engagementsShortened, result.grantsShortened], [0, 0]);
      assert.equal((await store.db.select().from(engagements).where(eq(engagements.id, w.engagementId)))[0]!.endsAt.getTime(), endsAt.getTime());
    });

    it('someone neither IAM nor the relationship owner is refused and nothing is written; an outsider is told the vendor does not exist', async () => {
      const before = await auditCount();
      await refusedWith(change('eve', later(-1)), 'vendor.not_found', 'vendor');
      await refusedWith(change('carl', later(-1)), 'vendor.not_found', 'vendor');
      // Security and auditors see every vendor, so they learn they may not act rather than that it does not exist.
      await refusedWith(change('audrey', later(900)), 'actor.forbidden', 'vendor');
      await refusedWith(change('selma', later(900)), 'actor.forbidden', 'vendor');
      assert.equal(await auditCount(), before);
      assert.equal((await vendorRow()).contractEnd.toISOString(), '2030-12-31T00:00:00.000Z');
    });

    it('a relationship owner who is of the vendor may not move its end, and nothing is written', async () => {
      await createIdentity(await w.as('ivan'), { handle: 'rita', displayName: 'Rita of Acme', kind: 'employee', vendor: ACME });
      await store.db.update(vendors).set({ relationshipOwnerId: (await identityRow('rita')).id }).where(eq(vendors.name, ACME));
      const before = await auditCount();
      await refusedWith(change('rita', later(3000)), 'actor.forbidden', 'vendor');
      assert.equal(await auditCount(), before);
    });

    it('an engaged contractor of the vendor holding the IAM role may still not move its end', async () => {
      await store.db.execute(sql`INSERT INTO role_assignments (identity_id, role, source) VALUES (${await w.id('carl')}, 'iam', 'policy')`);
      await refusedWith(change('carl', later(3000)), 'actor.forbidden', 'vendor');
      assert.equal(await auditCount('vendor.contract_end_changed'), 0);
    });

    const HOSTILE: { story: string; end: string; code: 'vendor.invalid_contract_end' | 'input.invalid' }[] = [
      { story: 'eleven years ahead (beyond the ten-year cap)', end: '2041-01-02T00:00:00Z', code: 'vendor.invalid_contract_end' },
      { story: 'the year 9999', end: '9999-12-31T00:00:00Z', code: 'vendor.invalid_contract_end' },
      { story: 'past the year 9999', end: '+010000-01-01T00:00:00Z', code: 'input.invalid' },
      { story: 'not a date', end: 'next tuesday', code: 'input.invalid' },
      { story: 'an impossible date', end: '2030-02-31T25:61:00Z', code: 'input.invalid' },
      { story: 'a control character', end: '2030-06-01\u0000', code: 'input.invalid' },
    ];
    for (const c of HOSTILE) {
      it(`a contract end that is ${c.story} is refused naming contractEnd, and nothing is written`, async () => {
        const before = await auditCount();
        await refusedWith(change('ivan', c.end), c.code, 'contractEnd');
        assert.equal(await auditCount(), before);
      });
    }

    it('a new vendor with a contract end beyond the ten-year cap is refused naming contractEnd', async () => {
      await refusedWith(createVendor(await w.as('ivan'), { name: 'Forever Ltd', kind: 'other', relationshipOwner: 'sam', contractEnd: '2045-01-01T00:00:00Z' }),
        'vendor.invalid_contract_end', 'contractEnd');
    });

    it('garbage besides the date is refused naming the field: an unknown field, an empty reason', async () => {
      const ivan = await w.as('ivan');
      await refusedWith(changeVendorEnd(ivan, { vendor: ACME, contractEnd: later(9).toISOString(), reason: 'x', endAppliedAt: null } as never), 'input.invalid', '(input)');
      await refusedWith(changeVendorEnd(ivan, { vendor: ACME, contractEnd: later(9).toISOString(), reason: '   ' }), 'input.invalid', 'reason');
      await refusedWith(changeVendorEnd(ivan, { vendor: 'No Such Vendor', contractEnd: later(9).toISOString(), reason: 'x' }), 'vendor.not_found', 'vendor');
    });

    it('only a service account may be operated by a vendor, and not by one whose contract has ended', async () => {
      const ivan = await w.as('ivan');
      await refusedWith(createIdentity(ivan, { handle: 'vic', displayName: 'Vic', kind: 'contractor', sponsor: 'sam', operatedBy: ACME }), 'vendor.not_operator', 'operatedBy');
      await createVendor(ivan, { name: 'Gone Ltd', kind: 'other', relationshipOwner: 'sam', contractEnd: later(30).toISOString() });
      await changeVendorEnd(ivan, { vendor: 'Gone Ltd', contractEnd: later(-1).toISOString(), reason: 'ended' });
      await refusedWith(createIdentity(ivan, { handle: 'gone-bot', displayName: 'Gone bot', kind: 'service_account', owner: 'tom', operatedBy: 'Gone Ltd' }),
        'vendor.invalid_contract_end', 'operatedBy');
    });

    it("the vendor's evidence pack has everything held in the period and every event of its people, service accounts and contract; readable by auditors and the relationship owner only", async () => {
      const start = w.clock.now();
      await acmeAtWork();
      w.clock.advance(DAY);
      await change('ivan', later(-1), 'wound up');
      const pack = await buildVendorEvidence(await w.as('audrey'), { vendor: ACME });
      assert.equal(pack.title, `vendor ${ACME}`);
      assert.equal(pack.grants.length, 3, 'the three grants held through Acme, now revoked');
      assert.deepEqual(pack.vendor.grants, [], 'nothing held now');
      const actions = new Set(pack.timeline.map((e) => e.action));
      for (const action of ['vendor.created', 'vendor.contract_end_changed', 'vendor.contract_ended', 'grant.revoked', 'identity.status_changed', 'credential.retirement_due']) {
        assert.ok(actions.has(action), action);
      }
      assert.deepEqual(pack.timeline.map((e) => e.seq), [...pack.timeline.map((e) => e.seq)].sort((a, b) => a - b), 'in chain order');
      const before = await buildVendorEvidence(await w.as('sam'), { vendor: ACME, from: '2029-01-01T00:00:00Z', to: start.toISOString() });
      assert.deepEqual([before.grants.length, before.timeline.length], [0, 0], 'a period that ends before Acme was registered holds nothing');
      await refusedWith(buildVendorEvidence(await w.as('eve'), { vendor: ACME }), 'vendor.not_found', 'vendor');
      await refusedWith(buildVendorEvidence(await w.as('audrey'), { vendor: ACME, from: start.toISOString(), to: start.toISOString() }), 'input.invalid', 'to');
    });

    it('the vendor page shows people, engagements, service accounts with credentials, live grants; seen by the relationship owner and readers of all, not by others', async () => {
      await acmeAtWork();
      const page = await showVendor(await w.as('sam'), ACME);
      assert.deepEqual(page.people.map((p) => p.handle), ['carl']);
      assert.deepEqual(page.serviceAccounts.map((a) => [a.handle, a.credentials.length]), [['acme-sync', 1]]);
      assert.equal(page.grants.length, 3);
      assert.equal(page.engagements[0]!.id, w.engagementId);
      for (const reader of ['ivan', 'selma', 'audrey']) assert.equal((await showVendor(await w.as(reader), ACME)).name, ACME);
      await refusedWith(showVendor(await w.as('eve'), ACME), 'vendor.not_found', 'vendor');
      await refusedWith(showVendor(await w.as('carl'), ACME), 'vendor.not_found', 'vendor');
    });
  });
}
