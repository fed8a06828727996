import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { isRoot } from './support/sshd.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

/** The benchmark harness runs at tiny sizes in every test run, so it cannot rot between real runs. */
describe('the benchmark harness', () => {
  it('runs every benchmark on both backends at smoke size and prints one row for each', () => {
    const r = spawnSync(process.execPath, ['--import', 'tsx', 'bench/run.ts', '--smoke'], { cwd: ROOT, encoding: 'utf8', timeout: 300_000 });
    assert.equal(r.status, 0, r.stderr);
    for (const backend of ['embedded', 'postgres']) {
      for (const name of ['expire due grants', 'approve, one at a time', 'bulk approval', 'audit verify', 'revocation lag', 'systems page', 'inbox',
        'grants, everyone', 'audit search, one person', 'POST /v1/check, closed loop \\(wrk\\)', 'POST /v1/check at', 'floor: bare node:http']) {
        assert.match(r.stdout, new RegExp(`\\| ${name}[^\\n]*\\| ${backend} `), `${name} on ${backend}`);
      }
    }
    for (const name of ['pgbench -S direct', 'pgbench -S through the proxy']) assert.match(r.stdout, new RegExp(`\\| ${name}[^\\n]*\\| postgres `), name);
    // The SSH proxy's benchmark needs a private sshd, which needs root; without, it prints that it skipped.
    if (isRoot()) for (const name of ['ssh cat 1 MiB direct', 'ssh cat 1 MiB through the proxy', 'ssh echo round trip direct', 'ssh echo round trip through the proxy']) {
      assert.match(r.stdout, new RegExp(`\\| ${name}[^\\n]*\\| postgres `), name);
    }
  });
});
