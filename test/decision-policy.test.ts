import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { sql } from 'drizzle-orm';
import { decisionSettingsOf, flattenDecisionSettings } from '../src/domain/decision-settings.js';
import { planPolicy } from '../src/operations/plan-policy.js';
import { formatIssue } from '../src/policy/load.js';
import { validatePolicyFiles } from '../src/policy/validate.js';
import { parsePolicyOrRefuse } from '../src/policy/resolve.js';
import { rawRows } from '../src/store/database.js';
import { BACKENDS, freshStore } from './support/backends.js';
import { buildWorld, LIFECYCLE_POLICY } from './support/world.js';

const HEAD = `version: 1
durations:
  privileged: { default: 8h }
  standard: { default: 30d }
  read: { default: 90d }
systems:
  db:
    name: DB
    business_owner: olivia
    technical_owner: tom
    criticality: high
    entitlements:
`;

const validate = async (entitlements: string) => {
  const dir = await mkdtemp(join(tmpdir(), 'tenure-decision-policy-'));
  try {
    await writeFile(join(dir, 'policy.yaml'), HEAD + entitlements);
    return await validatePolicyFiles(join(dir, 'policy.yaml'));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
};

describe('conditions in the policy file', () => {
  it('each mistake is reported with its field and line', async () => {
    const { errors } = await validate(`      admin:
        name: Admin
        tier: privileged
        actions: [select, 'two words']
        conditions:
          mfa: false
          mfa_max_age: 12
          hours: { from: '8:00', to: '18:00', timezone: Mars/Olympus, days: [mon, funday] }
          source_cidrs: [10.0.0.0/33]
          geo: [fr]
      other:
        name: Other
        tier: read
        conditions: { hours: { from: '08:00', to: '08:00' } }
`);
    const lines = errors.map((e) => `${e.line} ${e.path}: ${e.message}`);
    const prefix = 'systems.db.entitlements.admin';
    assert.deepEqual(lines, [
      `16 ${prefix}.actions[1]: must be an action name such as select or deploy`,
      `18 ${prefix}.conditions.mfa: must be true (leave the condition out when it is not required)`,
      `19 ${prefix}.conditions.mfa_max_age: must be a positive duration with a unit, such as 15m, 8h or 30d, of at most 3660d: a bare number has no unit`,
      `20 ${prefix}.conditions.hours.days[1]: must be one of sun, mon, tue, wed, thu, fri, sat`,
      `20 ${prefix}.conditions.hours.from: must be a time HH:MM on a 24-hour clock, such as 08:00`,
      `20 ${prefix}.conditions.hours.timezone: must be an IANA time zone such as Europe/Paris or UTC`,
      `21 ${prefix}.conditions.source_cidrs[0]: must be a network such as 10.0.0.0/8 or 2001:db8::/32`,
      `22 ${prefix}.conditions.geo: unknown key (expected one of mfa, mfa_max_age, trusted_device, ticket, hours, source_cidrs)`,
      '26 systems.db.entitlements.other.conditions.hours.to: from and to must differ',
    ], errors.map(formatIssue).join('\n'));
  });

  it('a well-formed set of conditions is accepted as written', async () => {
    const result = await validate(`      admin:
        name: Admin
        tier: privileged
        conditions:
          mfa: true
          mfa_max_age: 12h
          hours: { from: '22:00', to: '06:00', timezone: Europe/Paris, days: [sat, sun] }
          source_cidrs: [10.0.0.0/8, '2001:db8::/32', 192.0.2.7]
`);
    assert.deepEqual(result.errors, []);
    assert.deepEqual(result.policy!.document.systems.db!.entitlements.admin!.conditions, {
      mfa: true, mfa_max_age: 12 * 3_600_000, hours: { from: '22:00', to: '06:00', timezone: 'Europe/Paris', days: ['sat', 'sun'] },
      source_cidrs: ['10.0.0.0/8', '2001:db8::/32', '192.0.2.7'],
    });
  });

  it('the decision settings list each entitlement that has actions or conditions, and flatten for a plan', async () => {
    const settings = decisionSettingsOf((await parsePolicyOrRefuse(LIFECYCLE_POLICY)).document);
    assert.deepEqual(Object.keys(settings).sort(), ['payments/admin', 'payments/initiate', 'payments/read']);
    assert.deepEqual(settings['payments/admin'], {
      actions: ['select', 'alter'], conditions: { mfa: true, trusted_device: true, source_cidrs: ['10.0.0.0/8'] },
    });
    assert.deepEqual(flattenDecisionSettings(settings), {
      'decision.payments/admin.actions': 'alter, select',
      'decision.payments/admin.conditions': 'mfa; trusted_device; source 10.0.0.0/8',
      'decision.payments/initiate.actions': 'insert',
      'decision.payments/initiate.conditions': 'ticket',
      'decision.payments/read.actions': 'select',
    });
  });
});

describe('the applied policy carries the decision settings', () => {
  it('policy apply stores each entitlement\'s actions and conditions where the decision index reads them', async () => {
    const w = await buildWorld(await freshStore(BACKENDS[0] ?? 'embedded'));
    try {
      const [row] = await rawRows<{ decision: unknown }>(w.store.db, sql`SELECT document -> 'decision' AS decision FROM policy_state WHERE id = 1`);
      assert.deepEqual(row?.decision, decisionSettingsOf((await parsePolicyOrRefuse(LIFECYCLE_POLICY)).document),
        'needs resolve.ts toDocument to add `decision: decisionSettingsOf(parsed.document)` (see docs/decision-point.md)');
    } finally {
      await w.store.close();
    }
  });

  /** The plan of the lifecycle policy with its payments/admin conditions edited by `edit`. */
  const planEdited = async (edit: (content: string) => string) => {
    const w = await buildWorld(await freshStore(BACKENDS[0] ?? 'embedded'));
    try {
      const content = edit(await readFile(LIFECYCLE_POLICY, 'utf8'));
      return (await planPolicy(await w.as('ivan'), { files: [{ name: 'policy.yaml', content }] })).lines;
    } finally {
      await w.store.close();
    }
  };
  const SOURCES = '          source_cidrs: [10.0.0.0/8]\n';

  it('a changed condition shows in the policy plan as a changed setting', async () => {
    assert.deepEqual(await planEdited((c) => c.replace(SOURCES, '')),
      ['~ setting decision.payments/admin.conditions: mfa; trusted_device; source 10.0.0.0/8 → mfa; trusted_device']);
  });

  it('a maximum MFA age shows in the policy plan in the policy\'s own words', async () => {
    assert.deepEqual(await planEdited((c) => c.replace(SOURCES, `${SOURCES}          mfa_max_age: 8h\n`)),
      ['~ setting decision.payments/admin.conditions: mfa; trusted_device; source 10.0.0.0/8 → mfa; mfa within 8h; trusted_device; source 10.0.0.0/8']);
  });
});
