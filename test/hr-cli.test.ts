import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const BIN = fileURLToPath(new URL('../bin/tenure.mjs', import.meta.url));
const EXAMPLES = fileURLToPath(new URL('../examples/hr/', import.meta.url));

/** The README's worked example, as a newcomer runs it: real processes on a real embedded data directory. */
describe('the HR feed from the command line, on the demo', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'tenure-hr-cli-'));
  const env = { ...process.env, TENURE_DATA_DIR: dataDir, DATABASE_URL: '', TENURE_ACTOR: '' };
  const tenure = (...args: string[]) => {
    const r = spawnSync(process.execPath, [BIN, ...args], { env, encoding: 'utf8', timeout: 120_000 });
    return { code: r.status, out: r.stdout, err: r.stderr, json: <T>() => JSON.parse(r.stdout) as T };
  };
  type Run = { held: { batchId: string } | null; summary: Record<string, number> };

  before(() => { const demo = tenure('demo'); assert.equal(demo.code, 0, demo.err); });

  it('a dry run says what would change and changes nothing; the import then applies it, and again replays', () => {
    const dry = tenure('--as', 'ivan', 'hr', 'import', join(EXAMPLES, 'joiners.csv'), '--source', 'workday', '--dry-run');
    assert.equal(dry.code, 0, dry.err);
    assert.match(dry.out, /DRY RUN, nothing changed: 3 events: /);
    assert.match(dry.out, /birthright granted: crm\/read, payments\/read/);
    assert.equal(tenure('--as', 'ivan', 'identity', 'show', 'fay').code, 4, 'nobody was created');
    assert.equal(tenure('--as', 'ivan', '--json', 'hr', 'import', join(EXAMPLES, 'joiners.csv'), '--source', 'workday').json<Run>().summary.hired, 3);
    assert.equal(tenure('--as', 'ivan', '--json', 'hr', 'import', join(EXAMPLES, 'joiners.csv'), '--source', 'workday').json<Run>().summary.replayed, 3);
  });

  it('a leaver is suspended and what they sponsored is a finding, closed by re-assigning it', () => {
    const left = tenure('--as', 'ivan', 'hr', 'import', join(EXAMPLES, 'leaver.csv'), '--source', 'workday');
    assert.equal(left.code, 0, left.err);
    const findings = tenure('--as', 'selma', '--json', 'findings', 'list').json<{ kind: string; summary: string; status: string; owner: string | null }[]>();
    const orphaned = findings.find((f) => f.kind === 'ownership_orphaned' && f.summary.includes('cora') && f.status === 'open');
    assert.ok(orphaned);
    assert.equal(orphaned.owner, null, 'Mia had no manager in the HR file, and Cora works for no vendor');
    assert.match(left.out.replace(/[│\s]+/g, ' '), /no manager on record, so each goes to the vendor's relationship owner/, 'the output says what happened, not "flagged to their manager"');
    const late = findings.find((f) => f.kind === 'late_termination');
    assert.match(late?.summary ?? '', /HR said so \d+ days later$/, 'lateness in days, not thousands of hours');
    const moved = tenure('--as', 'ivan', '--json', 'reassign', 'mia', '--to', 'sam', '--reason', 'Sam takes over');
    assert.equal(moved.json<{ findingsResolved: number }>().findingsResolved, 1);
  });

  it('a file that would suspend too many people is held, exits 3 and names the command security runs', () => {
    const file = join(dataDir, 'everyone-leaves.csv');
    writeFileSync(file, ['employee_id,type,effective_at,name,department',
      ...Array.from({ length: 8 }, (_, i) => `E-T${i},hire,2026-01-05T08:00:00Z,Temp ${i},Sales`)].join('\n'));
    assert.equal(tenure('--as', 'ivan', 'hr', 'import', file, '--source', 'workday').code, 0);
    writeFileSync(file, ['employee_id,type,effective_at', ...Array.from({ length: 8 }, (_, i) => `E-T${i},leave,2026-01-05T08:00:00Z`)].join('\n'));
    const held = tenure('--as', 'ivan', 'hr', 'import', file, '--source', 'workday');
    assert.equal(held.code, 3);
    assert.match(held.out, /HELD by the suspension brake: this would suspend 8 of \d+ active people.*tenure hr confirm [0-9a-f-]{36}/s);
    assert.equal(tenure('--as', 'ivan', '--json', 'identity', 'show', 'temp.0').json<{ status: string }>().status, 'active');
  });
});
