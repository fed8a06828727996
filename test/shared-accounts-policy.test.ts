import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { provisioningSettingsOf } from '../src/policy/provisioning-settings.js';
import { validatePolicyFiles } from '../src/policy/validate.js';

/** `shared_accounts` of a system (docs/policy.md): entitlements flagged as shared accounts, only on a proxied PostgreSQL system. */
describe('shared accounts in the policy', () => {
  let dir: string;
  before(async () => { dir = await mkdtemp(join(tmpdir(), 'tenure-shared-policy-')); });
  after(async () => { await rm(dir, { recursive: true }); });

  const proxied = '    connector: { type: postgres-roles, url: env:PAYMENTS_URL, role_prefix: t_, proxy: {} }';
  const validate = async (name: string, system: string[], extra: string[] = []) => {
    await writeFile(join(dir, name), ['version: 1', 'durations:', '  privileged: { default: 8h }', '  standard: { default: 30d }',
      '  read: { default: 90d }', 'systems:', '  payments:', '    name: Payments', '    business_owner: olivia', '    technical_owner: tom',
      '    criticality: high', ...system, ...extra, ''].join('\n'));
    return validatePolicyFiles(join(dir, name));
  };
  const messageAt = (errors: { path: string; message: string }[], path: string) => errors.find((e) => e.path === path)?.message ?? '';

  it('becomes an entitlement of the system flagged shared_account, with its target role', async () => {
    const result = await validate('valid.yaml', [proxied, '    entitlements:', '      read: { name: Read, tier: read }',
      '    shared_accounts:', '      app-admin: { name: App admin, tier: privileged, max_duration: 4h, target: app_admin }']);
    assert.deepEqual(result.errors, []);
    const payments = result.policy!.document.systems.payments!;
    assert.deepEqual(payments.entitlements['app-admin'], { name: 'App admin', tier: 'privileged', max_duration: 4 * 3_600_000, target: 'app_admin', shared_account: true });
    assert.equal(payments.entitlements.read!.shared_account, undefined);
    assert.equal(provisioningSettingsOf(result.policy!.document).systems.payments!.targets['payments/app-admin'], 'app_admin');
  });

  it('is refused on a system no proxy serves: no connector, or a postgres-roles or ssh-ca connector without a proxy', async () => {
    for (const connector of [[], ['    connector: { type: postgres-roles, url: env:PAYMENTS_URL, role_prefix: t_ }'],
      ['    connector: { type: ssh-ca, ca_key: "file:/etc/tenure/ca", krl_path: /var/lib/tenure/revoked.krl }']]) {
      const { errors } = await validate('unproxied.yaml', [...connector, '    shared_accounts:', '      app-admin: { name: App admin, tier: privileged }']);
      assert.match(messageAt(errors, 'systems.payments.shared_accounts'), /used only through Tenure's proxies/);
    }
  });

  it('may not use the key of an entitlement of the same system', async () => {
    const { errors } = await validate('twice.yaml', [proxied, '    entitlements:', '      admin: { name: Admin, tier: privileged }',
      '    shared_accounts:', '      admin: { name: Shared admin, tier: privileged }']);
    assert.match(messageAt(errors, 'systems.payments.shared_accounts.admin'), /also an entitlement of the system/);
  });

  it('is never birthright: an access profile may not name it', async () => {
    const { errors } = await validate('birthright.yaml', [proxied, '    shared_accounts:', '      ops: { name: Ops, tier: standard }'],
      ['access_profiles:', '  finance:', '    match: { department: [Finance] }', '    entitlements: [payments/ops]']);
    assert.match(messageAt(errors, 'access_profiles.finance.entitlements[0]'), /is a shared account: .* never birthright/);
  });
});
