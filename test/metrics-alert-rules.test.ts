import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';

const dir = fileURLToPath(new URL('../ops/prometheus/', import.meta.url));

const promtool = (...args: string[]) => {
  const run = spawnSync('promtool', args, { cwd: dir, encoding: 'utf8', timeout: 30_000 });
  return { ok: run.status === 0, output: `${run.stdout}${run.stderr}${run.error ? String(run.error) : ''}` };
};

describe('the alert rules shipped in ops/prometheus', () => {
  it('are valid Prometheus rules', () => {
    const run = promtool('check', 'rules', 'tenure-alerts.yml');
    assert.ok(run.ok, run.output);
  });

  it('fire, and stay quiet, as their unit tests say (promtool test rules)', () => {
    const run = promtool('test', 'rules', 'tenure-alerts.test.yml');
    assert.ok(run.ok, run.output);
    assert.match(run.output, /SUCCESS/);
  });

  it('name only metrics that Tenure serves', () => {
    const rules = readFileSync(`${dir}tenure-alerts.yml`, 'utf8');
    const docs = readFileSync(fileURLToPath(new URL('../docs/metrics.md', import.meta.url)), 'utf8');
    for (const [name] of rules.matchAll(/tenure_[a-z_]+/g)) assert.ok(docs.includes(`\`${name}\``), `${name} is not in docs/metrics.md`);
  });
});
