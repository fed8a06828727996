import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { formatIssue } from '../src/policy/load.js';
import { validatePolicyFiles } from '../src/policy/validate.js';
import { provisioningSettingsOf } from '../src/policy/provisioning-settings.js';
import { LIFECYCLE_POLICY } from './support/world.js';

const base = readFileSync(LIFECYCLE_POLICY, 'utf8');

/** The lifecycle policy with `connector` (and more) spliced into the crm system, and extra top-level text. */
const withCrm = (connectorYaml: string, topLevel = '') => [{
  name: 'policy.yaml',
  content: `${base.replace('  crm:\n    name: Customer records\n', `  crm:\n    name: Customer records\n${connectorYaml}`)}${topLevel}`,
}];

const validate = async (connectorYaml: string, topLevel = '') => validatePolicyFiles(withCrm(connectorYaml, topLevel));

describe('connectors in the policy file', () => {
  it('a connector whose credential is a secret reference is valid, with each entitlement\'s target name', async () => {
    const result = await validate('    connector: { type: postgres-roles, url: env:CRM_DB_URL, role_prefix: ext_ }\n    reconcile: { mode: revoke, every: 1h }\n');
    assert.deepEqual(result.errors.map(formatIssue), []);
    const settings = provisioningSettingsOf(result.policy!.document);
    assert.deepEqual(settings.systems.crm, {
      connector: { type: 'postgres-roles', url: 'env:CRM_DB_URL', role_prefix: 'ext_', leftovers: 'report' },
      reconcile: { mode: 'revoke', everyMs: 3_600_000 },
      targets: { 'crm/read': 'read' }, privilegedTargets: [],
    });
    assert.deepEqual(settings.brake, { share: 0.1, minimum: 5 }, 'the brake defaults to 10%');
  });

  it('a credential written inline is refused, naming the field, and the secret is not repeated in the message', async () => {
    const result = await validate('    connector: { type: postgres-roles, url: "postgres://tenure:hunter2@db:5432/crm", role_prefix: ext_ }\n');
    const issue = result.errors.find((e) => e.path === 'systems.crm.connector.url');
    assert.ok(issue, result.errors.map(formatIssue).join('\n'));
    assert.match(issue.message, /secret reference \(env:NAME or file:\/absolute\/path\)/);
    assert.ok(!result.errors.some((e) => e.message.includes('hunter2')));
  });

  it('an unknown connector type, a missing setting and a bad brake share are each refused at their field', async () => {
    const unknown = await validate('    connector: { type: oracle }\n');
    assert.match(unknown.errors.find((e) => e.path.startsWith('systems.crm.connector'))!.message, /postgres-roles, scim, ldap, manual/);
    const missing = await validate('    connector: { type: scim, base_url: "https://idp.example.com/scim/v2" }\n');
    assert.ok(missing.errors.some((e) => e.path === 'systems.crm.connector.token'), missing.errors.map(formatIssue).join('\n'));
    const share = await validate('', 'provisioning:\n  brake: { share: 150% }\n');
    assert.ok(share.errors.some((e) => e.path === 'provisioning.brake.share'), share.errors.map(formatIssue).join('\n'));
  });

  it('what an account leaves behind is reported by default, or dropped, or reassigned to a role; anything else is refused at its field', async () => {
    for (const [yaml, wanted] of [['drop', 'drop'], ['{ reassign_to: payments_owner }', { reassign_to: 'payments_owner' }]] as const) {
      const result = await validate(`    connector: { type: postgres-roles, url: env:CRM_DB_URL, role_prefix: ext_, leftovers: ${yaml} }\n`);
      assert.deepEqual(result.errors.map(formatIssue), []);
      assert.deepEqual((provisioningSettingsOf(result.policy!.document).systems.crm!.connector as { leftovers: unknown }).leftovers, wanted);
    }
    for (const bad of ['keep', '{ reassign_to: "Robert\'); DROP TABLE x" }']) {
      const result = await validate(`    connector: { type: postgres-roles, url: env:CRM_DB_URL, role_prefix: ext_, leftovers: ${bad} }\n`);
      assert.ok(result.errors.some((e) => e.path.startsWith('systems.crm.connector.leftovers')), result.errors.map(formatIssue).join('\n'));
    }
  });

  it('manual provisioning takes due times, and shares can be written as percentages', async () => {
    const result = await validate('    connector: { type: manual, removal_due: 4h }\n', 'provisioning:\n  brake: { share: 5%, minimum: 20 }\n');
    assert.deepEqual(result.errors.map(formatIssue), []);
    const settings = provisioningSettingsOf(result.policy!.document);
    assert.deepEqual(settings.systems.crm!.connector, { type: 'manual', provision_due_ms: 2 * 86_400_000, removal_due_ms: 4 * 3_600_000 });
    assert.deepEqual(settings.brake, { share: 0.05, minimum: 20 });
  });
});
