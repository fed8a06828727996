import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { formatIssue, type PolicyIssue } from '../src/policy/load.js';
import { validatePolicyFiles } from '../src/policy/validate.js';
import { validatePolicy } from '../src/operations/validate-policy.js';

const fixture = (name: string) => fileURLToPath(new URL(`./fixtures/policy/${name}`, import.meta.url));
const errorsOf = async (name: string) => (await validatePolicyFiles(fixture(name))).errors;

/** Finds the one error at `path` and checks the file (by its name) and line it names. */
const expectError = (errors: PolicyIssue[], expected: { file: string; line: number; path: string; message: RegExp }) => {
  const found = errors.filter((e) => e.path === expected.path);
  assert.equal(found.length, 1, `expected one error at ${expected.path}, got:\n${errors.map(formatIssue).join('\n')}`);
  const [error] = found as [PolicyIssue];
  assert.ok(error.file.endsWith(expected.file), `${error.file} should be ${expected.file}`);
  assert.equal(error.line, expected.line, `line of ${expected.path}`);
  assert.match(error.message, expected.message);
};

describe('policy validation', () => {
  it('a valid folder of two files merges into one policy', async () => {
    const result = await validatePolicyFiles(fixture('valid'));
    assert.deepEqual(result.errors, []);
    assert.deepEqual(result.files.map((f) => f.split('/').pop()), ['10-people.yaml', '20-systems.yaml']);
    const doc = result.policy!.document;
    assert.deepEqual(Object.keys(doc.systems), ['payments']);
    assert.equal(doc.systems.payments!.entitlements.admin!.max_duration, 4 * 3_600_000);
    assert.deepEqual(doc.durations.privileged, { default: 8 * 3_600_000, employee: 24 * 3_600_000 });
    assert.equal(doc.approval.system_owner, 'business');
    assert.deepEqual(doc.groups.reviewers, ['group:secops', 'ivan']);
    assert.equal(doc.separation_of_duties[0]!.name, 'payments-maker-checker');
    assert.match(result.policy!.digest, /^[0-9a-f]{64}$/);
  });

  it('locations in a merged folder point at the file that wrote each part', async () => {
    const policy = (await validatePolicyFiles(fixture('valid'))).policy!;
    const roles = policy.locate(['roles', 'iam']);
    assert.ok(roles.file.endsWith('10-people.yaml'));
    assert.equal(roles.line, 8);
    const tier = policy.locate(['systems', 'payments', 'entitlements', 'admin', 'tier']);
    assert.ok(tier.file.endsWith('20-systems.yaml'));
    assert.equal(tier.line, 15);
    assert.equal(policy.locate(['separation_of_duties', 0, 'entitlements']).line, 4);
  });

  it('the digest ignores comments and layout but not content', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'tenure-policy-'));
    try {
      const base = 'version: 1\ndurations:\n  privileged: { default: 8h }\n  standard: { default: 30d }\n  read: { default: 90d }\n';
      await writeFile(join(dir, 'a.yaml'), base);
      await writeFile(join(dir, 'b.yaml'), `# a comment\n${base.replace('{ default: 8h }', '\n    default: 8h')}`);
      await writeFile(join(dir, 'c.yaml'), base.replace('8h', '4h'));
      const [a, b, c] = await Promise.all(['a', 'b', 'c'].map(async (n) => (await validatePolicyFiles(join(dir, `${n}.yaml`))).policy!.digest));
      assert.equal(a, b);
      assert.notEqual(a, c);
    } finally {
      await rm(dir, { recursive: true });
    }
  });

  it('every error in a file is reported at once, each with its file, line and path', async () => {
    const errors = await errorsOf('many-errors.yaml');
    const file = 'many-errors.yaml';
    expectError(errors, { file, line: 5, path: 'roles.security[1]', message: /unknown group 'ghosts'/ });
    expectError(errors, { file, line: 11, path: 'requests.pending_expires_after', message: /'a week' is not a duration/ });
    expectError(errors, { file, line: 14, path: 'separation_of_duties[0].entitlements[1]', message: /unknown entitlement 'payments\/refund'/ });
    expectError(errors, { file, line: 23, path: 'systems.payments.entitlements.admin.max_duration', message: /12h is longer than the privileged tier's maximum \(8h\)/ });
    expectError(errors, { file, line: 26, path: 'systems.crm.owner', message: /^unknown key/ });
    expectError(errors, { file, line: 31, path: 'systems.crm.entitlements.read.tier', message: /^must be one of read, standard, privileged$/ });
    assert.equal(errors.length, 6, errors.map(formatIssue).join('\n'));
  });

  it('a formatted error reads file:line path: message', async () => {
    const errors = await errorsOf('many-errors.yaml');
    const tier = errors.find((e) => e.path.endsWith('.tier'))!;
    assert.match(formatIssue(tier), /many-errors\.yaml:31 systems\.crm\.entitlements\.read\.tier: must be one of read, standard, privileged$/);
  });

  it('a tier without a maximum is an error, as is a tier without a default', async () => {
    const errors = await errorsOf('missing-tier.yaml');
    expectError(errors, { file: 'missing-tier.yaml', line: 2, path: 'durations.privileged', message: /is required: the privileged tier needs a maximum/ });
    expectError(errors, { file: 'missing-tier.yaml', line: 4, path: 'durations.read.default', message: /is required: the read tier needs a default maximum/ });
  });

  it('a file without a version is refused, naming the file', async () => {
    expectError(await errorsOf('missing-version.yaml'), { file: 'missing-version.yaml', line: 1, path: 'version', message: /is required/ });
  });

  it('a file written for an unsupported version is refused at its version line', async () => {
    expectError(await errorsOf('unsupported-version.yaml'), { file: 'unsupported-version.yaml', line: 2, path: 'version', message: /unsupported version 2/ });
  });

  it('a YAML syntax error names the file and line, and nothing misleading follows it', async () => {
    const errors = await errorsOf('syntax-error.yaml');
    assert.equal(errors.length, 1, errors.map(formatIssue).join('\n'));
    assert.ok(errors[0]!.file.endsWith('syntax-error.yaml'));
    assert.ok(errors[0]!.line >= 3 && errors[0]!.line <= 4, `line ${errors[0]!.line}`);
    assert.match(errors[0]!.message, /^YAML syntax error/);
  });

  it('a key defined in two files is an error naming both files', async () => {
    const errors = await errorsOf('duplicate');
    expectError(errors, { file: 'b.yaml', line: 8, path: 'systems.payments', message: /is defined twice: also in .*duplicate\/a\.yaml:7/ });
    assert.equal(errors.length, 1);
  });

  describe('with small inline policies', () => {
    let dir: string;
    before(async () => { dir = await mkdtemp(join(tmpdir(), 'tenure-policy-')); });
    after(async () => { await rm(dir, { recursive: true }); });
    const durations = 'durations:\n  privileged: { default: 8h }\n  standard: { default: 30d }\n  read: { default: 90d }\n';
    const check = async (name: string, body: string) => {
      await writeFile(join(dir, name), `version: 1\n${durations}${body}`);
      return (await validatePolicyFiles(join(dir, name))).errors;
    };

    it('unknown keys are refused at every level, with the keys that are allowed', async () => {
      const errors = await check('unknown.yaml', 'colour: blue\nroles:\n  admin: [ada]\napproval:\n  alternates:\n    boss: [ada]\n');
      expectError(errors, { file: 'unknown.yaml', line: 6, path: 'colour', message: /unknown key \(expected one of groups, roles/ });
      expectError(errors, { file: 'unknown.yaml', line: 8, path: 'roles.admin', message: /expected one of security, iam, auditor/ });
      expectError(errors, { file: 'unknown.yaml', line: 11, path: 'approval.alternates.boss', message: /expected one of sponsor, system_owner, security/ });
    });

    it('a group naming an unknown group, a group cycle and a group as system owner are refused', async () => {
      const errors = await check('groups.yaml', [
        'groups:', '  a: [group:b]', '  b: [group:a]', '  c: [group:nobody]',
        'systems:', '  hr:', '    name: HR', '    business_owner: group:c', '    technical_owner: tom', '    criticality: low', '',
      ].join('\n'));
      expectError(errors, { file: 'groups.yaml', line: 8, path: 'groups.b[0]', message: /group cycle: a → b → a/ });
      expectError(errors, { file: 'groups.yaml', line: 9, path: 'groups.c[0]', message: /unknown group 'nobody'/ });
      expectError(errors, { file: 'groups.yaml', line: 13, path: 'systems.hr.business_owner', message: /one person, not a group/ });
    });

    it('bad keys, bad durations and a bare number are refused', async () => {
      const errors = await check('values.yaml', [
        'requests:', '  pending_expires_after: 7', 'systems:', '  Payments_1:', '    name: P', '    business_owner: olivia',
        '    technical_owner: tom', '    criticality: low', '  hr:', '    name: HR', '    business_owner: olivia',
        '    technical_owner: tom', '    criticality: extreme', '    entitlements:', '      view: { name: View, tier: read, max_duration: 3 parsecs }', '',
      ].join('\n'));
      expectError(errors, { file: 'values.yaml', line: 7, path: 'requests.pending_expires_after', message: /positive duration with a unit.*a bare number has no unit/ });
      expectError(errors, { file: 'values.yaml', line: 9, path: 'systems.Payments_1', message: /lowercase letters, digits/ });
      expectError(errors, { file: 'values.yaml', line: 18, path: 'systems.hr.criticality', message: /must be one of low, medium, high, critical/ });
      expectError(errors, { file: 'values.yaml', line: 20, path: 'systems.hr.entitlements.view.max_duration', message: /'3 parsecs' is not a duration/ });
    });

    it('a separation-of-duties rule must name two different, existing entitlements', async () => {
      const errors = await check('sod.yaml', [
        'separation_of_duties:', '  - name: one', '    entitlements: [hr/view, hr/view]', '  - name: two',
        '    entitlements: [ghost/x, hr]', '  - name: three', '    entitlements: [hr/view]',
        'systems:', '  hr:', '    name: HR', '    business_owner: olivia', '    technical_owner: tom', '    criticality: low',
        '    entitlements:', '      view: { name: View, tier: read }', '',
      ].join('\n'));
      expectError(errors, { file: 'sod.yaml', line: 8, path: 'separation_of_duties[0].entitlements', message: /two different/ });
      expectError(errors, { file: 'sod.yaml', line: 10, path: 'separation_of_duties[1].entitlements[0]', message: /unknown system 'ghost'/ });
      expectError(errors, { file: 'sod.yaml', line: 10, path: 'separation_of_duties[1].entitlements[1]', message: /<system>\/<entitlement>/ });
      expectError(errors, { file: 'sod.yaml', line: 12, path: 'separation_of_duties[2].entitlements', message: /at least two/ });
    });

    it('privileged access may not outlast standard, nor standard outlast read, for any kind of identity', async () => {
      await writeFile(join(dir, 'tiers.yaml'), [
        'version: 1', 'durations:', '  privileged: { default: 365d }', '  standard: { default: 30d, contractor: 120d }', '  read: { default: 1d, employee: 400d }', '',
      ].join('\n'));
      const errors = (await validatePolicyFiles(join(dir, 'tiers.yaml'))).errors;
      expectError(errors, { file: 'tiers.yaml', line: 3, path: 'durations.privileged.default', message: /365d for employee is longer than the standard tier's 30d/ });
      expectError(errors, { file: 'tiers.yaml', line: 4, path: 'durations.standard.contractor', message: /120d for contractor is longer than the read tier's 1d/ });
      expectError(errors, { file: 'tiers.yaml', line: 4, path: 'durations.standard.default', message: /30d for vendor_operator is longer than the read tier's 1d/ });
      assert.equal(errors.length, 3, errors.map(formatIssue).join('\n'));
      assert.deepEqual(await check('ordered.yaml', ''), [], 'equal or shorter windows up the tiers are valid');
    });

    it('an access profile that gives both sides of a separation-of-duties rule is refused at its entitlements; one side alone is valid', async () => {
      const policy = (entitlements: string) => [
        'version: 1', 'durations:', '  privileged: { default: 8h }', '  standard: { default: 30d }', '  read: { default: 90d }',
        'separation_of_duties:', '  - { name: maker-checker, entitlements: [pay/initiate, pay/approve] }',
        'systems:', '  pay:', '    name: Pay', '    business_owner: olivia', '    technical_owner: tom', '    criticality: high', '    entitlements:',
        '      initiate: { name: Initiate, tier: standard }', '      approve: { name: Approve, tier: standard }',
        'access_profiles:', '  finance:', '    match: { department: [Finance] }', `    entitlements: [${entitlements}]`, ''].join('\n');
      await writeFile(join(dir, 'profile-conflict.yaml'), policy('pay/initiate, pay/approve'));
      const errors = (await validatePolicyFiles(join(dir, 'profile-conflict.yaml'))).errors;
      expectError(errors, { file: 'profile-conflict.yaml', line: 20, path: 'access_profiles.finance.entitlements',
        message: /gives pay\/initiate and pay\/approve, which separation_of_duties rule 'maker-checker' keeps apart/ });
      assert.equal(errors.length, 1, errors.map(formatIssue).join('\n'));
      await writeFile(join(dir, 'profile-one-side.yaml'), policy('pay/initiate'));
      assert.deepEqual((await validatePolicyFiles(join(dir, 'profile-one-side.yaml'))).errors, []);
    });

    it('an evidence rule that would let privileged access go with one stage, or with a broken pattern, is refused at its field', async () => {
      await writeFile(join(dir, 'evidence.yaml'), [
        'version: 1', 'durations:', '  privileged: { default: 8h }', '  standard: { default: 30d }', '  read: { default: 90d }',
        'evidence:', '  everyone-once:', '    single_stage: true', '  bad-ticket:', '    ticket: "INC-[0-9"',
        '  staff-read:', '    when: { tier: [read], kind: [employee] }', '    single_stage: true', ''].join('\n'));
      const errors = (await validatePolicyFiles(join(dir, 'evidence.yaml'))).errors;
      expectError(errors, { file: 'evidence.yaml', line: 8, path: 'evidence.everyone-once.single_stage', message: /privileged access always has every stage/ });
      expectError(errors, { file: 'evidence.yaml', line: 10, path: 'evidence.bad-ticket.ticket', message: /regular expression/ });
      assert.equal(errors.length, 2, errors.map(formatIssue).join('\n'));
    });

    it("an entitlement that hands out the target's own keys (postgres, pg_*, Domain Admins, a directory's own admin_groups) is refused unless it says so, at tier privileged", async () => {
      const base = ['version: 1', 'durations:', '  privileged: { default: 8h }', '  standard: { default: 30d }', '  read: { default: 90d }', 'systems:',
        '  db:', '    name: DB', '    business_owner: olivia', '    technical_owner: tom', '    criticality: high',
        '    connector: { type: postgres-roles, url: "env:DB_URL", role_prefix: ext_ }', '    entitlements:',
        '      shell: { name: Shell, tier: read, target: pg_execute_server_program }',
        '      postgres: { name: Owner, tier: privileged }',
        '      everything: { name: All data, tier: standard, target: pg_read_all_data, privileged_target: true }',
        '      dba: { name: DBA, tier: privileged, target: pg_signal_backend, privileged_target: true }',
        '      report: { name: Reports, tier: read, target: reporting }',
        '  dir:', '    name: Directory', '    business_owner: olivia', '    technical_owner: tom', '    criticality: high',
        '    connector: { type: ldap, url: "ldaps://ldap.example.com", bind_dn: "cn=tenure,dc=example,dc=com", bind_password: "env:LDAP_PW",',
        '      users_dn: "ou=people,dc=example,dc=com", groups_dn: "ou=groups,dc=example,dc=com", admin_groups: [Payroll Admins] }',
        '    entitlements:', '      admins: { name: Admins, tier: privileged, target: Domain Admins }',
        '      payroll: { name: Payroll, tier: standard, target: payroll admins }', ''];
      await writeFile(join(dir, 'targets.yaml'), base.join('\n'));
      const errors = (await validatePolicyFiles(join(dir, 'targets.yaml'))).errors;
      expectError(errors, { file: 'targets.yaml', line: 14, path: 'systems.db.entitlements.shell.target', message: /'pg_execute_server_program' is a built-in or administrative role/ });
      expectError(errors, { file: 'targets.yaml', line: 15, path: 'systems.db.entitlements.postgres.tier', message: /'postgres' is a built-in/ });
      expectError(errors, { file: 'targets.yaml', line: 16, path: 'systems.db.entitlements.everything.tier', message: /its tier must be privileged/ });
      expectError(errors, { file: 'targets.yaml', line: 27, path: 'systems.dir.entitlements.admins.target', message: /'Domain Admins' is a built-in/ });
      expectError(errors, { file: 'targets.yaml', line: 28, path: 'systems.dir.entitlements.payroll.target', message: /'payroll admins' is a built-in or administrative/ });
      assert.equal(errors.length, 5, errors.map(formatIssue).join('\n'));
    });

    it("a PostgreSQL proxy block with a parameters setting other than redact or keep, or an upstream that is no secret reference, is refused by name", async () => {
      const lines = ['version: 1', 'durations:', '  privileged: { default: 8h }', '  standard: { default: 30d }', '  read: { default: 90d }', 'systems:',
        '  db:', '    name: DB', '    business_owner: olivia', '    technical_owner: tom', '    criticality: high',
        '    connector:', '      type: postgres-roles', '      url: "env:DB_URL"', '      role_prefix: ext_',
        '      proxy: { parameters: sometimes, upstream: "postgres://db:5432/app" }',
        '    entitlements:', '      report: { name: Reports, tier: read, target: reporting }', ''];
      await writeFile(join(dir, 'proxy.yaml'), lines.join('\n'));
      const errors = (await validatePolicyFiles(join(dir, 'proxy.yaml'))).errors;
      expectError(errors, { file: 'proxy.yaml', line: 16, path: 'systems.db.connector.proxy.parameters', message: /must be redact or keep/ });
      expectError(errors, { file: 'proxy.yaml', line: 16, path: 'systems.db.connector.proxy.upstream', message: /must be a secret reference/ });
      assert.equal(errors.length, 2, errors.map(formatIssue).join('\n'));
    });

    it('a missing durations section and a missing path are reported, not thrown', async () => {
      await writeFile(join(dir, 'nodurations.yaml'), 'version: 1\n');
      const errors = (await validatePolicyFiles(join(dir, 'nodurations.yaml'))).errors;
      expectError(errors, { file: 'nodurations.yaml', line: 1, path: 'durations', message: /is required/ });
      const missing = await validatePolicyFiles(join(dir, 'nothing-here'));
      assert.match(missing.errors[0]!.message, /no such file or folder/);
    });
  });

  it('the validate operation without a database checks the files and returns the errors as lines', async () => {
    const result = await validatePolicy(undefined, { path: fixture('many-errors.yaml') });
    assert.equal(result.ok, false);
    assert.equal(result.digest, null);
    assert.equal(result.messages.length, 6);
    assert.match(result.messages[0]!, /many-errors\.yaml:5 roles\.security\[1\]: unknown group 'ghosts'/);
    const valid = await validatePolicy(undefined, { path: fixture('valid') });
    assert.equal(valid.ok, true);
  });
});
