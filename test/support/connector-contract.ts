import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { AccessEntry, Connector, ConnectorGrant } from '../../src/connectors/contract.js';

/** What the contract suite needs from a connector's test setup; everything runs against the real target. */
export interface ContractFixtures {
  /** A grant for a fresh identity (never provisioned before), the only one it holds on the system. */
  freshGrant: () => ConnectorGrant;
  /** The entry listAccess must show once the grant is provisioned. */
  expectedAccess: (grant: ConnectorGrant) => Pick<AccessEntry, 'account' | 'entitlement'>;
  /** The same connector pointed at a place where nothing answers. */
  unreachableConnector: () => Connector;
  /** Strings that must never appear in a check() detail (passwords, tokens). */
  secrets: () => string[];
}

const holds = async (connector: Connector, wanted: Pick<AccessEntry, 'account' | 'entitlement'>): Promise<boolean> =>
  (await connector.listAccess()).some((entry) => entry.account === wanted.account && entry.entitlement === wanted.entitlement);

/**
 * The behaviour every connector shares: provision and deprovision show in listAccess, repeating
 * either changes nothing, and check() tells whether the target answers without leaking secrets.
 * Register it inside a describe whose hooks start the real target before `makeConnector` is called.
 */
export const connectorContract = (name: string, makeConnector: () => Connector, fixtures: ContractFixtures): void => {
  describe(`the connector contract, for ${name}`, () => {
    it('a provisioned grant shows in listAccess as real access', async () => {
      const connector = makeConnector();
      const grant = fixtures.freshGrant();
      assert.equal(await holds(connector, fixtures.expectedAccess(grant)), false, 'not there before');
      assert.deepEqual(await connector.provision(grant), { changed: true });
      assert.ok(await holds(connector, fixtures.expectedAccess(grant)), 'there after provisioning');
    });

    it('provisioning the same grant twice changes nothing the second time', async () => {
      const connector = makeConnector();
      const grant = fixtures.freshGrant();
      await connector.provision(grant);
      const before = await connector.listAccess();
      assert.deepEqual(await connector.provision(grant), { changed: false });
      assert.deepEqual(await connector.listAccess(), before);
    });

    it('deprovisioning removes the access from listAccess', async () => {
      const connector = makeConnector();
      const grant = fixtures.freshGrant();
      await connector.provision(grant);
      assert.deepEqual(await connector.deprovision(grant), { changed: true });
      assert.equal(await holds(connector, fixtures.expectedAccess(grant)), false);
    });

    it('deprovisioning twice succeeds and changes nothing the second time', async () => {
      const connector = makeConnector();
      const grant = fixtures.freshGrant();
      await connector.provision(grant);
      await connector.deprovision(grant);
      const before = await connector.listAccess();
      assert.deepEqual(await connector.deprovision(grant), { changed: false });
      assert.deepEqual(await connector.listAccess(), before);
    });

    it('deprovisioning a grant that was never provisioned succeeds and changes nothing', async () => {
      const connector = makeConnector();
      const grant = fixtures.freshGrant();
      const before = await connector.listAccess();
      assert.deepEqual(await connector.deprovision(grant), { changed: false });
      assert.deepEqual(await connector.listAccess(), before);
    });

    it('holds(), the read-back after a removal, agrees with listAccess before, during and after the grant', async () => {
      const connector = makeConnector();
      if (!connector.holds) return;
      const grant = fixtures.freshGrant();
      assert.equal(await connector.holds(grant), false, 'not before');
      await connector.provision(grant);
      assert.equal(await connector.holds(grant), true, 'while provisioned');
      assert.equal(await holds(connector, fixtures.expectedAccess(grant)), true);
      await connector.deprovision(grant);
      assert.equal(await connector.holds(grant), false, 'not after removal');
      assert.equal(await holds(connector, fixtures.expectedAccess(grant)), false);
    });

    it('check() is ok against the real target', async () => {
      const result = await makeConnector().check();
      assert.equal(result.ok, true, result.detail);
      for (const secret of fixtures.secrets()) assert.ok(!result.detail.includes(secret), 'no secret in the detail');
    });

    it('check() against an unreachable target is not ok, says why, and shows no secret', async () => {
      const result = await fixtures.unreachableConnector().check();
      assert.equal(result.ok, false);
      assert.match(result.detail, /cannot reach/);
      for (const secret of fixtures.secrets()) assert.ok(!result.detail.includes(secret), 'no secret in the detail');
    });
  });
};
