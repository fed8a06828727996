import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parse, stringify } from 'yaml';
import { ManualClock } from '../src/domain/clock.js';
import { TenureError } from '../src/domain/errors.js';
import { DEMO_POLICY, loadDemo } from '../src/cli/demo.js';
import { checkInTransaction } from '../src/decision/policy-check.js';
import { applyPolicy } from '../src/operations/apply-policy.js';
import { testPolicy } from '../src/operations/test-policy.js';
import type { Store } from '../src/store/database.js';
import { findIdentity } from '../src/store/queries/identities.js';
import type { Context } from '../src/work/context.js';
import { BACKENDS, freshStore } from './support/backends.js';
import { changedTables, databaseDigest } from './support/db-digest.js';

const BIN = fileURLToPath(new URL('../bin/tenure.mjs', import.meta.url));
const DEMO_TESTS = DEMO_POLICY.replace(/\.yaml$/, '.tests.yaml');

/** A copy of the demo policy whose tests expect Carl's read access to need security too: a test that must fail. */
const brokenCopy = (): string => {
  const dir = mkdtempSync(join(tmpdir(), 'tenure-policy-tests-'));
  copyFileSync(DEMO_POLICY, join(dir, 'policy.yaml'));
  const tests = parse(readFileSync(DEMO_TESTS, 'utf8')) as { tests: { expect: { route?: string[] } }[] };
  tests.tests[0]!.expect.route = ['sponsor', 'system_owner', 'security'];
  writeFileSync(join(dir, 'policy.tests.yaml'), stringify(tests));
  return dir;
};

for (const backend of BACKENDS) {
  describe(`policy tests run the candidate policy against the people it governs, changing nothing (${backend})`, () => {
    let store: Store;
    let ada: Context;
    const broken = brokenCopy();

    before(async () => {
      store = await freshStore(backend);
      const system: Context = { store, clock: new ManualClock(new Date()), actor: { id: undefined, channel: 'system' } };
      await loadDemo(system, { ifEmpty: false });
      ada = { ...system, actor: { id: (await findIdentity(store.db, 'ada')).id, channel: 'cli', osUser: 'test' } };
    });
    after(async () => { rmSync(broken, { recursive: true, force: true }); await store?.close(); });

    it('the demo policy passes its own tests, and running them leaves every table as it was', async () => {
      const before = await databaseDigest(store);
      const run = await testPolicy(ada, { path: DEMO_POLICY }, { checker: checkInTransaction });
      assert.deepEqual(run.results.filter((r) => !r.ok), [], 'no failing case');
      assert.equal(run.passed, (parse(readFileSync(DEMO_TESTS, 'utf8')) as { tests: unknown[] }).tests.length);
      assert.deepEqual(changedTables(before, await databaseDigest(store)), []);
    });

    it('a check case without a decision point to ask is reported as such, never passed', async () => {
      const run = await testPolicy(ada, { path: DEMO_POLICY });
      const checks = run.results.filter((r) => r.expected.decision !== undefined);
      assert.ok(checks.length > 0 && checks.every((r) => !r.ok && r.actual.refused === 'policy_test.check_unavailable'));
    });

    it('a failing case shows what was expected and what happened, and apply refuses the policy without writing anything', async () => {
      const before = await databaseDigest(store);
      const run = await testPolicy(ada, { path: join(broken, 'policy.yaml') }, { checker: checkInTransaction });
      assert.equal(run.ok, false);
      const [failed, ...more] = run.results.filter((r) => !r.ok);
      assert.equal(more.length, 0);
      assert.deepEqual(failed!.expected, { route: ['sponsor', 'system_owner', 'security'] });
      assert.deepEqual(failed!.actual.route, ['sponsor', 'system_owner']);
      await assert.rejects(applyPolicy(ada, { path: join(broken, 'policy.yaml') }),
        (e: TenureError) => e.code === 'policy.tests_failed' && e.message.includes("Carl's read access"));
      assert.deepEqual(changedTables(before, await databaseDigest(store)), []);
    });

    it('someone who may not apply policy may not run its tests either (they act as the people they name)', async () => {
      const audrey = { ...ada, actor: { ...ada.actor, id: (await findIdentity(store.db, 'audrey')).id } };
      await assert.rejects(testPolicy(audrey, { path: DEMO_POLICY }), (e: TenureError) => e.code === 'actor.forbidden');
    });
  });
}

describe('tenure policy test, as a newcomer runs it on the demo', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'tenure-policy-test-cli-'));
  const broken = brokenCopy();
  const tenure = (...args: string[]) => spawnSync(process.execPath, [BIN, ...args],
    { env: { ...process.env, TENURE_DATA_DIR: dataDir, DATABASE_URL: '' }, encoding: 'utf8', timeout: 120_000 });
  after(() => { rmSync(dataDir, { recursive: true, force: true }); rmSync(broken, { recursive: true, force: true }); });

  it('prints each case, exits 0 when all pass and 1 when one fails, naming expected and actual', () => {
    assert.equal(tenure('demo').status, 0);
    const passing = tenure('--as', 'ada', 'policy', 'test', DEMO_POLICY);
    assert.equal(passing.status, 0, passing.stdout + passing.stderr);
    assert.match(passing.stdout, /^ok {4}Carl's read access/m);
    assert.match(passing.stdout, /\d+ tests passed, 0 failed/);
    const failing = tenure('--as', 'ada', 'policy', 'test', join(broken, 'policy.yaml'));
    assert.equal(failing.status, 1, failing.stdout + failing.stderr);
    assert.match(failing.stdout, /FAIL {2}Carl's read access[^\n]*\n {6}expected \{"route":\["sponsor","system_owner","security"\]\}\n {6}actual {3}\{"route":\["sponsor","system_owner"\]\}/);
    const apply = tenure('--as', 'ada', 'policy', 'apply', join(broken, 'policy.yaml'));
    assert.equal(apply.status, 3, apply.stdout + apply.stderr);
    assert.match(apply.stderr + apply.stdout, /policy\.tests_failed/);
  });
});
