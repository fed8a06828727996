import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { provisioningSettingsOf } from '../src/policy/provisioning-settings.js';
import { validatePolicyFiles } from '../src/policy/validate.js';

/**
 * `forwarding` of an entitlement (docs/policy.md): exact host:port destinations, only on a proxied
 * ssh-ca system; and `file_transfer`, the other allowance only the SSH proxy keeps.
 */
describe('forwarding and file transfer in the policy', () => {
  let dir: string;
  before(async () => { dir = await mkdtemp(join(tmpdir(), 'tenure-forwarding-policy-')); });
  after(async () => { await rm(dir, { recursive: true }); });

  const proxied = ['    connector:', '      type: ssh-ca', '      ca_key: "file:/etc/tenure/ca"', '      krl_path: /var/lib/tenure/revoked.krl',
    '      proxy:', '        upstream_key: "file:/etc/tenure/upstream"', '        hosts: { web1: { address: "10.0.0.5:22", host_key: "ssh-ed25519 AAAA" } }'];
  let files = 0;
  const validate = async (system: string[]) => {
    const name = `policy-${files += 1}.yaml`;
    await writeFile(join(dir, name), ['version: 1', 'durations:', '  privileged: { default: 8h }', '  standard: { default: 30d }',
      '  read: { default: 90d }', 'systems:', '  bastion:', '    name: Bastion', '    business_owner: olivia', '    technical_owner: tom',
      '    criticality: high', ...system, ''].join('\n'));
    return validatePolicyFiles(join(dir, name));
  };
  const withForwarding = (list: string) => validate([...proxied, '    entitlements:', `      deploy: { name: Deploy, tier: standard, forwarding: ${list} }`]);
  const messageAt = (errors: { path: string; message: string }[], path: string) => errors.find((e) => e.path === path)?.message ?? '';
  const path = 'systems.bastion.entitlements.deploy.forwarding';

  it('reaches the proxy\'s settings by entitlement key, IPv4, IPv6 in brackets and host names alike, on entitlements and shared accounts', async () => {
    const result = await validate([...proxied, '    entitlements:',
      '      deploy: { name: Deploy, tier: standard, forwarding: ["127.0.0.1:5432", "[::1]:5432", "db-1.internal:8080"] }',
      '      read: { name: Read, tier: read }',
      '    shared_accounts:', '      ops: { name: Ops, tier: privileged, forwarding: ["localhost:9090"] }']);
    assert.deepEqual(result.errors, []);
    assert.deepEqual(provisioningSettingsOf(result.policy!.document).systems.bastion!.forwarding,
      { 'bastion/deploy': ['127.0.0.1:5432', '[::1]:5432', 'db-1.internal:8080'], 'bastion/ops': ['localhost:9090'] });
  });

  it('leaves the settings of a system without forwarding as they were', async () => {
    const result = await validate([...proxied, '    entitlements:', '      deploy: { name: Deploy, tier: standard }']);
    assert.deepEqual(result.errors, []);
    assert.equal('forwarding' in provisioningSettingsOf(result.policy!.document).systems.bastion!, false);
  });

  it('refuses wildcards, ranges, missing or impossible ports, bare IPv6, zone ids, odd IPv4 spellings, upper case and spaces, naming the rule', async () => {
    const hostile = ['"*:5432"', '"127.0.0.1:*"', '"127.0.0.1:1-65535"', '"127.0.0.1"', '"127.0.0.1:0"', '"127.0.0.1:65536"', '"127.0.0.1:05432"',
      '"::1:5432"', '"[fe80::1%eth0]:22"', '"127.1:5432"', '"256.0.0.1:22"', '"DB.internal:5432"', '" db:5432"', '"db:5432/tcp"', '"*.internal:443"',
      '"-db:22"', '5432', '""'];
    for (const value of hostile) {
      const { errors } = await withForwarding(`[${value}]`);
      assert.match(messageAt(errors, `${path}[0]`), /must be host:port, .* no wildcards or ranges/, value);
    }
  });

  it('refuses an empty list, a list of more than 64, a destination listed twice and something that is not a list', async () => {
    assert.match(messageAt((await withForwarding('[]')).errors, path), /at least one destination \(leave forwarding out to refuse it\)/);
    const many = Array.from({ length: 65 }, (_, i) => `"127.0.0.1:${i + 1}"`).join(', ');
    assert.match(messageAt((await withForwarding(`[${many}]`)).errors, path), /at most 64 destinations/);
    assert.match(messageAt((await withForwarding('["127.0.0.1:5432", "127.0.0.1:5432"]')).errors, `${path}[1]`), /listed twice/);
    assert.notEqual(messageAt((await withForwarding('"127.0.0.1:5432"')).errors, path), '');
  });

  it('is refused where the SSH proxy does not enforce it: an ssh-ca system without a proxy, or another connector', async () => {
    for (const connector of [['    connector: { type: ssh-ca, ca_key: "file:/etc/tenure/ca", krl_path: /var/lib/tenure/revoked.krl }'],
      ['    connector: { type: postgres-roles, url: env:PAYMENTS_URL, role_prefix: t_, proxy: {} }'], []]) {
      const { errors } = await validate([...connector, '    entitlements:', '      deploy: { name: Deploy, tier: standard, forwarding: ["127.0.0.1:5432"] }']);
      assert.match(messageAt(errors, path), /only Tenure's SSH proxy enforces forwarding: the system needs an ssh-ca connector with a proxy block/);
    }
  });

  it('reaches the proxy\'s settings as the entitlements that may not transfer files, and only when one says file_transfer: false', async () => {
    const result = await validate([...proxied, '    entitlements:', '      deploy: { name: Deploy, tier: standard, file_transfer: true }',
      '      audit: { name: Audit, tier: read, file_transfer: false }', '    shared_accounts:', '      ops: { name: Ops, tier: privileged, file_transfer: false }']);
    assert.deepEqual(result.errors, []);
    assert.deepEqual(provisioningSettingsOf(result.policy!.document).systems.bastion!.noFileTransfer, ['bastion/audit', 'bastion/ops']);
    const allowed = await validate([...proxied, '    entitlements:', '      deploy: { name: Deploy, tier: standard, file_transfer: true }']);
    assert.equal('noFileTransfer' in provisioningSettingsOf(allowed.policy!.document).systems.bastion!, false);
  });

  it('refuses file_transfer that is not true or false, and on a system the SSH proxy does not serve', async () => {
    const at = 'systems.bastion.entitlements.deploy.file_transfer';
    const odd = await validate([...proxied, '    entitlements:', '      deploy: { name: Deploy, tier: standard, file_transfer: "no" }']);
    assert.match(messageAt(odd.errors, at), /must be true or false \(leave it out to allow file transfer, recorded\)/);
    const unproxied = await validate(['    connector: { type: ssh-ca, ca_key: "file:/etc/tenure/ca", krl_path: /var/lib/tenure/revoked.krl }',
      '    entitlements:', '      deploy: { name: Deploy, tier: standard, file_transfer: false }']);
    assert.match(messageAt(unproxied.errors, at), /only Tenure's SSH proxy enforces file transfer: the system needs an ssh-ca connector with a proxy block/);
  });
});
