/**
 * `npm run bench -- --only startup`: how long whole `tenure` processes take, from exec to exit, beside
 * the floors measured in the same run (`node -e 0`, and opening the embedded database for one query).
 * The package's compiled code (dist/, built first) is what an installed `tenure` runs; the sources
 * through tsx, what a checkout runs, are measured too, for the comparison. Peak memory comes from
 * GNU time's %M (maximum resident set size).
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { median, type BenchResult } from './report.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const COMPILED = join(ROOT, 'dist', 'cli', 'main.js');
const SOURCES = join(ROOT, 'bin', 'tenure.mjs');
const FLOOR_QUERY = "import { PGlite } from '@electric-sql/pglite'; const db = new PGlite({ dataDir: process.argv[1] }); await db.query('select count(*) from grants'); await db.close();";

/**
 * In the server-mode row the CLI runs on the second core and `tenure serve` on the first, so the
 * row does not measure the two fighting over one core. The other rows are one process each, left
 * unpinned: a person's shell gives `tenure` the whole machine, and PGlite compiles its WebAssembly
 * on a second thread.
 */
const PIN = cpus().length > 1 && existsSync('/usr/bin/taskset');
const onCore = (core: number, command: string[]): string[] => (PIN ? ['/usr/bin/taskset', '-c', String(core), ...command] : command);

/** One process under GNU time: its wall time and peak resident memory. */
const timed = (args: string[], env: NodeJS.ProcessEnv, core?: number): { ms: number; kib: number } => {
  const start = performance.now();
  const command = [process.execPath, ...args];
  const r = spawnSync('/usr/bin/time', ['-f', '%M', ...(core === undefined ? command : onCore(core, command))], { cwd: ROOT, env, encoding: 'utf8' });
  const ms = performance.now() - start;
  if (r.status !== 0) throw new Error(`node ${args.join(' ')} failed: ${r.stderr}`);
  return { ms, kib: Number(r.stderr.trim().split('\n').at(-1)) };
};

/** The median of `runs` whole processes; the name carries the median peak memory. */
const row = (name: string, backend: string, args: string[], env: NodeJS.ProcessEnv, runs: number, target?: string, core?: number): BenchResult => {
  const samples = Array.from({ length: runs }, () => timed(args, env, core));
  const mib = median(samples.map((s) => s.kib)) / 1024;
  return { name: `${name} (peak ${Math.round(mib)} MiB)`, backend, n: 1, medianMs: median(samples.map((s) => s.ms)), perSecond: Number.NaN, ...(target ? { target } : {}) };
};

/** `tenure serve` on the data directory, until `stop`; resolves with its URL once it listens. */
const serve = (env: NodeJS.ProcessEnv): Promise<{ url: string; stop: () => Promise<void> }> => new Promise((resolve, reject) => {
  const [command, ...args] = onCore(0, [process.execPath, COMPILED, 'serve', '--port', '0']);
  const child = spawn(command!, args, { cwd: ROOT, env, stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  child.stderr.on('data', (chunk: Buffer) => {
    log += String(chunk);
    const match = /serving (http:\/\/[^\s"]+)/.exec(log);
    if (match) resolve({ url: match[1]!, stop: () => new Promise((done) => { child.once('close', () => done()); child.kill('SIGTERM'); }) });
  });
  child.once('exit', (code) => reject(new Error(`tenure serve exited with ${code}: ${log}`)));
});

export const benchStartup = async (runs: number): Promise<BenchResult[]> => {
  execFileSync(process.execPath, ['scripts/build.mjs'], { cwd: ROOT, stdio: 'ignore' });
  const dataDir = mkdtempSync(join(tmpdir(), 'tenure-bench-startup-'));
  const env: NodeJS.ProcessEnv = { ...process.env, TENURE_DATA_DIR: dataDir, DATABASE_URL: '', TENURE_SERVER: '', TENURE_ACTOR: '' };
  try {
    execFileSync(process.execPath, [COMPILED, 'demo'], { cwd: ROOT, env, stdio: 'ignore' });
    const results = [
      row('floor: node -e 0', 'process', ['-e', '0'], env, runs),
      row('floor: open the embedded database, one query', 'embedded', ['--input-type=module', '-e', FLOOR_QUERY, dataDir], env, runs),
      row('tenure --help', 'compiled', [COMPILED, '--help'], env, runs, '≤ 250 ms'),
      row('tenure --help', 'sources (tsx)', [SOURCES, '--help'], env, runs),
      row('tenure --as carl grant list', 'compiled, embedded', [COMPILED, '--as', 'carl', 'grant', 'list'], env, runs, 'floor + 300 ms'),
      row('tenure --as carl grant list', 'sources (tsx), embedded', [SOURCES, '--as', 'carl', 'grant', 'list'], env, runs),
    ];
    const created = JSON.parse(execFileSync(process.execPath, [COMPILED, '--as', 'carl', '--json', 'token', 'create', '--name', 'bench', '--scopes', 'read'],
      { cwd: ROOT, env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] })) as { secret: string };
    const server = await serve(env);
    try {
      const remote = { ...env, TENURE_SERVER: server.url, TENURE_TOKEN: created.secret };
      results.push(row('tenure grant list', 'compiled, server mode', [COMPILED, 'grant', 'list'], remote, runs, '≤ 300 ms', 1));
    } finally {
      await server.stop();
    }
    return results;
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
};
