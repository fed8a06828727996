import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const BIN = fileURLToPath(new URL('../bin/tenure.mjs', import.meta.url));

/** `tenure vendor …` as a newcomer runs it: real processes on a real embedded data directory loaded with the demo. */
describe('tenure vendor on the command line', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'tenure-vendor-cli-'));
  const env = { ...process.env, TENURE_DATA_DIR: dataDir, DATABASE_URL: '', TENURE_ACTOR: '' };
  const tenure = (...args: string[]) => {
    const r = spawnSync(process.execPath, [BIN, ...args], { env, encoding: 'utf8', timeout: 120_000 });
    return { code: r.status, out: r.stdout, err: r.stderr, json: <T>() => JSON.parse(r.stdout) as T };
  };
  const yesterday = new Date(Date.now() - 86_400_000).toISOString();

  before(() => {
    const demo = tenure('demo');
    assert.equal(demo.code, 0, demo.err);
  });

  it('the relationship owner sees the vendor page; a contractor of the vendor is told it does not exist', () => {
    const shown = tenure('--as', 'sam', '--json', 'vendor', 'show', 'Acme Integrators');
    assert.equal(shown.code, 0, shown.err);
    const page = shown.json<{ relationshipOwner: string; people: { handle: string }[] }>();
    assert.deepEqual([page.relationshipOwner, page.people.map((p) => p.handle)], ['sam', ['carl']]);
    const outsider = tenure('--as', 'carl', 'vendor', 'set-end', 'Acme Integrators', '--end', yesterday, '--reason', 'mine to end');
    assert.equal(outsider.code, 4, 'not found');
    assert.match(outsider.err, /vendor\.not_found/);
  });

  it('an end beyond the ten-year cap exits 3 naming contractEnd', () => {
    const far = tenure('--as', 'sam', 'vendor', 'set-end', 'Acme Integrators', '--end', '2099-01-01', '--reason', 'forever');
    assert.equal(far.code, 3, far.err);
    assert.match(far.err, /vendor\.invalid_contract_end/);
    assert.match(far.err, /contractEnd/);
  });

  it('IAM ends a contract as of yesterday: its engagement ends at once, the list and evidence pack show it', () => {
    const ended = tenure('--as', 'ivan', '--json', 'vendor', 'set-end', 'Northwind Support', '--end', yesterday, '--reason', 'wound up');
    assert.equal(ended.code, 0, ended.err);
    assert.deepEqual(ended.json<{ ended: boolean; engagementsEnded: number }>(), { ...ended.json<object>(), ended: true, engagementsEnded: 1 });
    const listed = tenure('--as', 'audrey', '--json', 'vendor', 'list').json<{ name: string; endAppliedAt: string | null }[]>();
    assert.ok(listed.find((v) => v.name === 'Northwind Support')!.endAppliedAt);
    const out = join(dataDir, 'northwind.html');
    const pack = tenure('--as', 'audrey', 'vendor', 'evidence', 'Northwind Support', '--html', '--out', out);
    assert.equal(pack.code, 0, pack.err);
    assert.ok(existsSync(out));
    assert.match(readFileSync(out, 'utf8'), /vendor\.contract_ended/);
  });
});
