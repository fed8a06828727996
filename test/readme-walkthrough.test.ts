import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { readmeShellBlock, shellCommands } from './support/readme.js';
import { startScramPostgres, type ScramCluster } from './support/scram-postgres.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const README = readFileSync(join(ROOT, 'README.md'), 'utf8');

/**
 * The walk-through waits two minutes for Carl's grant to end. The test asks for 90 seconds and waits
 * until it has surely passed: the clock starts at the final approval, so counted from just before
 * Olivia's (with ten seconds for that command itself). It fails if the README no longer says what it
 * replaces, so the two cannot drift.
 */
const FASTER: [string, string][] = [
  ['tenure --as olivia approve "$REQ"', 'T0=$(date +%s); tenure --as olivia approve "$REQ"'],
  ['--duration 2m', '--duration 90s'],
  ['sleep 120', 'sleep $(( T0 + 100 > $(date +%s) ? T0 + 100 - $(date +%s) : 0 ))'],
];

/** The database section names a server on 127.0.0.1:5432; the test gives it a private scram PostgreSQL instead. */
const DATABASE_README_URL = 'postgres://postgres:secret@127.0.0.1:5432/postgres';
const onCluster = (cluster: ScramCluster): [string, string][] => [
  [DATABASE_README_URL, cluster.url],
  ['127.0.0.1:5432', `${cluster.host}:${cluster.port}`],
];

/** What a command's output must show, by the start of the command as the README writes it (in order of appearance). */
const EXPECT: [string, RegExp][] = [
  ['tenure demo', /ivan/],
  ['tenure --as carl request show', /sponsor[\s\S]*system_owner/],
  ['tenure --as sam request list --inbox', /payments\/read/],
  ['tenure --as sam approve "$REQ" --comment', /nextStage\s+│ system_owner/],
  ['tenure --as sam approve "$REQ"', /request\.second_stage_forbidden/],
  ['tenure --as carl grant list', /active/],
  ['sleep', /grants expired 1/],
  ['tenure --as carl grant list', /expired/],
  ['tenure --as audrey audit verify', /^ok: /m],
  ['tenure --as ada policy apply payments-on-postgres.yaml', /payments_read/],
  ['tenure worker --once', /provisioning\s+done 1/],
  ['psql "postgres://ext_carl@', /^\s*ext_carl\s*$/m],
  ['tenure --as sam revoke "$GRANT"', /revoked/],
  ['tenure worker --once', /provisioning\s+done 1/],
  ['psql "postgres://ext_carl@', /ext_carl/],
  ['tenure --as ada reconcile payments', /connector_unsafe/],
  ['tenure --as selma findings list', /cora/],
  ['tenure --as audrey evidence identity mia', /wrote the evidence pack of identity mia .* to \S+mia\.html/],
];

/** Each command of the blocks, with its exit code and output, as one bash session runs them in order. */
const runInOrder = (commands: string[], cwd: string, env: NodeJS.ProcessEnv) => {
  const script = ['shopt -s expand_aliases', 'exec 2>&1',
    ...commands.flatMap((command, i) => [`printf '\\n@@@ %d\\n' ${i}`, command, `printf '\\n@@@ %d exit %d\\n' ${i} $?`])].join('\n');
  // The bound is against a hang only: on an idle machine the whole walk takes under two minutes.
  const r = spawnSync('bash', ['-c', script], { cwd, env, encoding: 'utf8', timeout: 600_000 });
  assert.equal(r.status, 0, `${r.error?.message ?? ''}\n${r.stdout}`);
  return commands.map((command, i) => {
    const match = new RegExp(`\\n@@@ ${i}\\n([\\s\\S]*?)\\n@@@ ${i} exit (\\d+)\\n`).exec(r.stdout);
    assert.ok(match, `no output for ${command}:\n${r.stdout}`);
    return { command, out: match[1]!, code: Number(match[2]) };
  });
};

describe('the README, followed in order by a newcomer', () => {
  const home = mkdtempSync(join(tmpdir(), 'tenure-readme-'));
  let cluster: ScramCluster;
  before(async () => { cluster = await startScramPostgres(); });
  after(async () => { await cluster?.stop(); rmSync(home, { recursive: true, force: true }); });

  it('the contractor walk-through, Carl\'s sign-in to a real database and then the HR example run as written, on npm start\'s database, each command exiting as its comment says', () => {
    const walk = readmeShellBlock(README, '## Walk a contractor through the lifecycle');
    for (const [from] of FASTER) assert.equal(walk.split(from).length, 2, `the walk-through says '${from}' once`);
    const replace = (pairs: [string, string][]) => (c: string) => pairs.reduce((text, [from, to]) => text.replaceAll(from, to), c);
    const database = readmeShellBlock(README, '### Carl signs in to a real database');
    assert.ok(database.includes(DATABASE_README_URL), `the database section says ${DATABASE_README_URL}`);
    const commands = [
      ...shellCommands(walk).map(replace(FASTER)),
      ...shellCommands(database).map(replace(onCluster(cluster))),
      ...shellCommands(readmeShellBlock(README, '## The HR feed: joiners, movers and leavers')),
    ];
    // Where the reader runs them: the repository (bin/, examples/), here as links, so files they write land in the scratch directory.
    const cwd = join(home, 'checkout');
    mkdirSync(cwd);
    for (const name of ['bin', 'examples']) symlinkSync(join(ROOT, name), join(cwd, name));
    // npm start first: its demo is in ./.tenure, and TMPDIR keeps mktemp -d inside the scratch directory.
    const env = { ...process.env, TMPDIR: home, TENURE_DATA_DIR: join(cwd, '.tenure'), DATABASE_URL: '', TENURE_ACTOR: '', TENURE_SERVER: '' };
    const npmStart = spawnSync(process.execPath, ['bin/tenure.mjs', 'demo', '--if-empty'], { cwd, env, encoding: 'utf8' });
    assert.equal(npmStart.status, 0, npmStart.stderr);

    const ran = runInOrder(commands, cwd, env);
    for (const step of ran) {
      const expected = Number(/\(exit (\d)\)/.exec(step.command)?.[1] ?? 0);
      assert.equal(step.code, expected, `${step.command}\n${step.out}`);
      assert.doesNotMatch(step.out, /SyntaxError|\n {4}at /, `no stack trace: ${step.command}`);
    }
    let from = 0;
    for (const [start, shows] of EXPECT) {
      const index = ran.findIndex((step, i) => i >= from && step.command.startsWith(start));
      assert.ok(index >= 0, `the README no longer runs '${start}' at this point`);
      assert.match(ran[index]!.out, shows, ran[index]!.command);
      from = index + 1;
    }
  });
});
