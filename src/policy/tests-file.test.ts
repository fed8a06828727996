import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadPolicyTests } from './tests-file.js';

const file = (content: string) => [{ name: 'policy.yaml', content: 'version: 1\n' }, { name: 'policy.tests.yaml', content }];
const refused = async (content: string, message: RegExp) =>
  assert.rejects(loadPolicyTests(file(content)), (e: { code: string; message: string }) => e.code === 'policy.invalid' && message.test(e.message));

describe('policy tests files', () => {
  it('only the files named *.tests.yaml are tests, read with their cases', async () => {
    const loaded = await loadPolicyTests(file('version: 1\ntests:\n  - { name: a, birthright: { department: Finance }, expect: { entitlements: [] } }\n'));
    assert.deepEqual(loaded.map((l) => [l.file, l.cases.length]), [['policy.tests.yaml', 1]]);
    assert.deepEqual(await loadPolicyTests([{ name: 'policy.yaml', content: 'version: 1\n' }]), []);
  });

  it('a case that expects nothing, does two things, or an unknown field is refused with its place', async () => {
    await refused('version: 1\ntests:\n  - { name: a, birthright: { department: Finance }, expect: {} }\n', /tests\.0\.expect: must expect something/);
    await refused('version: 1\ntests:\n  - { name: a, birthright: {}, check: { identity: carl, entitlement: x/y }, expect: { allowed: true } }\n',
      /exactly one of request, birthright or check/);
    await refused('version: 1\ntests:\n  - { name: a, birthright: {}, expect: { allowed: true }, whatever: 1 }\n', /tests\.0/);
    await refused('version: 1\ntests: [\n', /not YAML/);
  });
});
