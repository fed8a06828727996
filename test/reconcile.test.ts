import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { runProvisioningPass } from '../src/jobs/provisioning/index.js';
import { runDueReconciliations } from '../src/jobs/reconcile-schedule.js';
import { changeIdentityStatus } from '../src/operations/change-identity-status.js';
import { listFindings } from '../src/operations/list-findings.js';
import { acceptFinding } from '../src/operations/accept-finding.js';
import { reopenLapsedFindings } from '../src/jobs/findings.js';
import { reconcileSystems } from '../src/operations/reconcile-system.js';
import { revokeGrant } from '../src/operations/revoke-grant.js';
import { DEFAULT_FINDING_DUE_MS } from '../src/domain/findings.js';
import type { Store } from '../src/store/database.js';
import { refusedWith } from './support/assert.js';
import { BACKENDS, freshStore } from './support/backends.js';
import { grantThrough } from './support/flows.js';
import { applyPolicyText, buildProvisioningWorld, provisioningPolicy, startPgTarget, type PgTarget } from './support/provisioning-world.js';
import { HOUR, type World } from './support/world.js';

let target: PgTarget;
before(async () => { target = await startPgTarget(); });
after(async () => { await target?.stop(); });

const ident = pg.escapeIdentifier;
/** Something other than Tenure changes the target: a DBA's GRANT, a script, a restore from backup. */
const outOfBand = (statement: string) => target.admin((client) => client.query(statement));
const login = (handle: string) => ident(`${target.prefix}${handle}`);

const reconcile = async (w: World, options: { revoke?: boolean; confirmMassRevoke?: boolean } = {}) => {
  w.clock.advance(60_000);
  const [result] = await reconcileSystems(await w.as('ivan'), { system: 'payments', ...options });
  return result!;
};
const openDrift = async (w: World) => (await listFindings(await w.as('audrey'), { status: 'open', system: 'payments' }))
  // The test target's connector is its superuser, so connector_unsafe is always open here; it has its own test.
  .filter((f) => f.kind !== 'mass_revocation_held' && f.kind !== 'connector_unsafe');
const kindsOf = (findings: { kind: string; evidence: unknown }[]) =>
  findings.map((f) => `${f.kind} ${(f.evidence as { account?: string }).account ?? ''}`.trim()).sort();

for (const backend of BACKENDS) {
  describe(`reconciliation of a real target with the grants (${backend})`, () => {
    let store: Store;
    let w: World;
    before(async () => { store = await freshStore(backend); w = await buildProvisioningWorld(store, target); });
    after(async () => {
      await store?.close();
      await outOfBand(`DO $$ DECLARE r record; BEGIN FOR r IN SELECT rolname FROM pg_roles WHERE left(rolname, ${target.prefix.length}) = '${target.prefix}'
        LOOP EXECUTE format('DROP ROLE %I', r.rolname); END LOOP; END $$`);
    });

    it('a target that matches the grants has no drift', async () => {
      await grantThrough(w, 'carl', { entitlement: 'payments/read', justification: 'reports', duration: '7d' }, ['sam', 'olivia']);
      await runProvisioningPass(w.worker);
      const result = await reconcile(w);
      assert.deepEqual(result.drift, {});
      assert.equal(result.accounts, 1);
      assert.equal(result.liveGrants, 1);
    });

    it('finds each kind of drift with its evidence: re-added access, missing access, inactive holders, orphans and shared accounts', async () => {
      const approve = await grantThrough(w, 'carl', { entitlement: 'payments/approve', justification: 'close', duration: '1d' }, ['sam', 'olivia']);
      const eveRead = await grantThrough(w, 'eve', { entitlement: 'payments/read', justification: 'reports', duration: '7d' }, ['sam', 'olivia']);
      await runProvisioningPass(w.worker);
      await revokeGrant(await w.as('sam'), { grant: approve, reason: 'done' });
      await runProvisioningPass(w.worker);
      await outOfBand(`GRANT ${target.roles.approve} TO ${login('carl')}`);
      await outOfBand(`REVOKE ${target.roles.read} FROM ${login('eve')}`);
      await outOfBand(`CREATE ROLE ${login('ghost')} LOGIN; GRANT ${target.roles.read} TO ${login('ghost')}`);
      await outOfBand(`CREATE ROLE ${login('shared-ops')} LOGIN; GRANT ${target.roles.admin} TO ${login('shared-ops')}`);
      await outOfBand(`CREATE ROLE ${login('vera')} LOGIN; GRANT ${target.roles.read} TO ${login('vera')}`);
      await changeIdentityStatus(await w.as('ivan'), { identity: 'vera', status: 'suspended', reason: 'contract paused' });

      const result = await reconcile(w);
      assert.deepEqual(result.drift, {
        access_without_grant: 1, grant_without_access: 1, access_of_inactive_identity: 1, orphan_account: 2, shared_account: 1,
        login_without_grant: 1,
      });
      const findings = await openDrift(w);
      assert.deepEqual(kindsOf(findings), [
        `access_of_inactive_identity ${target.prefix}vera`, `access_without_grant ${target.prefix}carl`, 'grant_without_access',
        `login_without_grant ${target.prefix}vera`,
        `orphan_account ${target.prefix}ghost`, `orphan_account ${target.prefix}shared-ops`, `shared_account ${target.prefix}shared-ops`,
      ]);
      const readded = findings.find((f) => f.kind === 'access_without_grant')!;
      assert.equal((readded.evidence as { readdedAfterRemoval: boolean }).readdedAfterRemoval, true, 'it says Tenure had removed it');
      assert.match(readded.summary, /again after Tenure removed it/);
      assert.equal(findings.find((f) => f.kind === 'grant_without_access')!.grantId, eveRead);
      assert.equal(findings.find((f) => f.kind === 'access_of_inactive_identity')!.severity, 'critical');
      assert.deepEqual(findings.find((f) => f.kind === 'orphan_account')!.frameworks, { owaspNhi: ['NHI1:2025'], nistCsf: ['PR.AA-01'] });
      // Somebody is asked to act, by when: the technical owner, within the severity's time.
      for (const f of findings) {
        assert.equal(f.owner, 'tom', `${f.kind} is the technical owner's`);
        assert.equal(new Date(f.dueAt!).getTime() - new Date(f.openedAt).getTime(), DEFAULT_FINDING_DUE_MS[f.severity], `${f.kind} due by severity`);
      }
    });

    it('seeing the same drift again refreshes its finding rather than opening another', async () => {
      const before = await openDrift(w);
      const result = await reconcile(w);
      assert.equal(result.findingsOpened, 0);
      assert.deepEqual((await openDrift(w)).map((f) => f.id).sort(), before.map((f) => f.id).sort());
    });

    it('security may accept a finding as an exception until a date: reconciliation keeps it accepted, and it opens again after', async () => {
      const orphan = (await openDrift(w)).find((f) => f.kind === 'orphan_account')!;
      const until = new Date(w.clock.now().getTime() + 30 * 24 * HOUR);
      await refusedWith(acceptFinding(await w.as('ivan'), { finding: orphan.id, reason: 'legacy batch account', until }), 'actor.forbidden');
      await refusedWith(acceptFinding(await w.as('selma'), { finding: orphan.id, reason: 'forever', until: new Date(w.clock.now().getTime() + 400 * 24 * HOUR) }),
        'finding.acceptance_too_long', 'until');
      await acceptFinding(await w.as('selma'), { finding: orphan.id, reason: 'legacy batch account, replaced in Q1', until });
      assert.equal((await reconcile(w)).findingsOpened, 0);
      const accepted = (await listFindings(await w.as('audrey'), { status: 'accepted' })).find((f) => f.id === orphan.id);
      assert.equal(accepted?.acceptedUntil?.getTime(), until.getTime());
      w.clock.advance(31 * 24 * HOUR);
      assert.equal(await reopenLapsedFindings(w.worker), 1);
      assert.equal((await listFindings(await w.as('audrey'), { status: 'open' })).find((f) => f.id === orphan.id)?.status, 'open');
    });

    it('report mode changes nothing in the target', async () => {
      const memberships = await target.memberships();
      const result = await reconcile(w);
      assert.equal(result.revoked, 0);
      assert.deepEqual(await target.memberships(), memberships);
    });

    it('revoking drift past the brake waits for security; then the access without a grant is removed and its findings close', async () => {
      await applyPolicyText(w, provisioningPolicy(target, { brake: { share: 0.1, minimum: 1 } }));
      const held = await reconcile(w, { revoke: true });
      assert.equal(held.brakeHeld, true);
      assert.equal(held.revoked, 0);
      await refusedWith(reconcileSystems(await w.as('ivan'), { system: 'payments', revoke: true, confirmMassRevoke: true }), 'actor.forbidden');
      w.clock.advance(60_000);
      const [confirmed] = await reconcileSystems(await w.as('selma'), { system: 'payments', revoke: true, confirmMassRevoke: true });
      assert.equal(confirmed!.revoked, 3, 'the re-added access, and the suspended holder\'s access and sign-in');
      const memberships = await target.memberships();
      assert.ok(!memberships.includes(`${target.prefix}carl ${target.roles.approve}`));
      assert.ok(!memberships.includes(`${target.prefix}vera ${target.roles.read}`));
      assert.ok(memberships.includes(`${target.prefix}ghost ${target.roles.read}`), 'an orphan is reported, never removed blindly');

      const after = await reconcile(w);
      assert.deepEqual(Object.keys(after.drift).sort(), ['grant_without_access', 'orphan_account', 'shared_account']);
      const closed = (await listFindings(await w.as('audrey'), { status: 'resolved', system: 'payments' })).map((f) => f.kind).sort();
      assert.deepEqual(closed.filter((k) => k !== 'mass_revocation_held'), ['access_of_inactive_identity', 'access_without_grant', 'login_without_grant']);
      await applyPolicyText(w, provisioningPolicy(target));
    });

    it('drift that is fixed in the target closes its finding by itself at the next reconciliation', async () => {
      await outOfBand(`GRANT ${target.roles.read} TO ${login('eve')}`);
      await outOfBand(`DROP ROLE ${login('ghost')}; DROP ROLE ${login('shared-ops')}`);
      w.clock.advance(HOUR);
      const result = await reconcile(w);
      assert.deepEqual(result.drift, {});
      assert.equal(result.findingsClosed, 4, 'missing access, two orphans and the shared account');
      assert.deepEqual(await openDrift(w), []);
    });

    it('the worker reconciles a system on its schedule: once per interval, and the run is on record', async () => {
      await applyPolicyText(w, provisioningPolicy(target, { reconcileEvery: '1h' }));
      w.clock.advance(2 * HOUR);
      assert.deepEqual((await runDueReconciliations(w.worker)).reconciled.map((r) => r.system), ['payments']);
      w.clock.advance(30 * 60_000);
      assert.deepEqual((await runDueReconciliations(w.worker)).reconciled, [], 'not again within the hour');
      w.clock.advance(31 * 60_000);
      assert.deepEqual((await runDueReconciliations(w.worker)).reconciled.map((r) => r.system), ['payments']);
      await applyPolicyText(w, provisioningPolicy(target));
      w.clock.advance(2 * HOUR);
      assert.deepEqual((await runDueReconciliations(w.worker)).reconciled, [], 'without a schedule, only on demand');
    });

    it('a system whose provisioning is manual cannot be reconciled, and nobody without the permission may reconcile', async () => {
      await refusedWith(reconcileSystems(await w.as('ivan'), { system: 'crm' }), 'reconcile.no_connector', 'system');
      await refusedWith(reconcileSystems(await w.as('carl'), { system: 'payments' }), 'actor.forbidden');
    });
  });
}
