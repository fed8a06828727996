/**
 * `npm run bench -- --only pgproxy`: `pgbench -S` (one primary-key SELECT per transaction) through
 * the PostgreSQL proxy, recording on, beside the same run straight to the server. Issue 18's goals:
 * at least 80 % of direct throughput, at most 0.2 ms added median latency.
 *
 * Two loads: 8 clients, to saturate (throughput; latency there is mostly queueing), and 1 client,
 * for the latency the proxy adds to one round trip. The proxy runs in this process, pinned to core
 * 0; pgbench runs pinned to core 1 (as the startup bench pins `tenure serve` and its CLI), so the
 * two do not trade one core. Two layouts of PostgreSQL, each measured direct and proxied:
 * - *shared*: the server unpinned, sharing both cores with the proxy, in both runs;
 * - *proxy's own core*: the server pinned to core 1 with pgbench in both runs, so the proxy's core
 *   is its own, as on a proxy host of its own: the direct run has the same one core for the server
 *   and the client, and the ratio shows what the proxy costs the session, not the machine.
 * Median latency comes from pgbench's per-transaction log, not its average; the proxy's CPU per
 * transaction (this process's user and system time over the proxied run) is printed beside the ratio.
 */
import { execFile, execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freshStore } from '../test/support/backends.js';
import { provisionedGrant, startProxyTarget, startProxyWorld, tokenOf, type ProxyTarget } from '../test/support/pg-proxy-world.js';
import { median, type BenchResult } from './report.js';

const run = promisify(execFile);
const PIN = cpus().length > 1 && existsSync('/usr/bin/taskset');

/** Pins every thread of this process (the proxy, the recorder's writes) to `cores`. */
const pinSelf = (cores: string) => { if (PIN) execFileSync('/usr/bin/taskset', ['-a', '-p', '-c', cores, String(process.pid)], { stdio: 'ignore' }); };

interface Pgbench { tps: number; latenciesMs: number[] }

/** One pgbench -S run of `seconds`; `conn` is host, port, user, dbname; the password in PGPASSWORD. */
const pgbench = async (conn: { host: string; port: number; user: string; dbname: string; password?: string }, clients: number, seconds: number): Promise<Pgbench> => {
  const dir = mkdtempSync(join(tmpdir(), 'tenure-pgbench-'));
  try {
    const args = ['-S', '-n', '-M', 'simple', '-c', String(clients), '-j', String(Math.min(clients, 2)), '-T', String(seconds),
      '-l', `--log-prefix=${join(dir, 'tx')}`, '-h', conn.host, '-p', String(conn.port), '-U', conn.user, conn.dbname];
    const command = PIN ? ['/usr/bin/taskset', '-c', '1', 'pgbench', ...args] : ['pgbench', ...args];
    const { stdout } = await run(command[0]!, command.slice(1), { env: { ...process.env, ...(conn.password ? { PGPASSWORD: conn.password } : {}) }, maxBuffer: 1 << 24 });
    const tps = Number(/tps = ([\d.]+)/.exec(stdout)?.[1]);
    if (!Number.isFinite(tps)) throw new Error(`pgbench printed no tps: ${stdout}`);
    // Each log line: client, transaction, latency in µs, script, epoch s, µs.
    const latenciesMs = readdirSync(dir).flatMap((file) => readFileSync(join(dir, file), 'utf8').split('\n'))
      .filter((line) => line !== '').map((line) => Number(line.split(' ')[2]) / 1000);
    return { tps, latenciesMs };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
};

/** pgbench's tables in the target, readable by the entitlement's role. */
const preparePgbench = async (target: ProxyTarget) => {
  await run('pgbench', ['-i', '-s', '1', '-q', target.url]);
  await target.admin((c) => c.query(`GRANT SELECT ON ALL TABLES IN SCHEMA public TO ${target.roles.read}`));
};

const fmt = (ms: number) => ms.toFixed(3);

/** Pins the PostgreSQL server holding the target (its postmaster and every process under it; backends forked later inherit it) to `cores`. */
const pinServer = async (target: ProxyTarget, cores: string) => {
  if (!PIN) return;
  const dataDir = await target.admin(async (c) => (await c.query<{ d: string }>("SELECT current_setting('data_directory') AS d")).rows[0]!.d);
  const postmaster = readFileSync(join(dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]!;
  const children = execFileSync('pgrep', ['-P', postmaster], { encoding: 'utf8' }).trim().split('\n').filter(Boolean);
  for (const pid of [postmaster, ...children]) execFileSync('/usr/bin/taskset', ['-a', '-p', '-c', cores, pid], { stdio: 'ignore' });
};

type Conn = Parameters<typeof pgbench>[0];

/** Direct, then proxied, at 8 clients and at 1, under one layout. */
const measure = async (layout: string, direct: Conn, proxied: Conn, seconds: number): Promise<BenchResult[]> => {
  const results: BenchResult[] = [];
  for (const clients of [8, 1]) {
    const d = await pgbench(direct, clients, seconds);
    const before = process.cpuUsage();
    const x = await pgbench(proxied, clients, seconds);
    const used = process.cpuUsage(before);
    // This process's CPU (the proxy and its recording writes) per transaction: other work on a shared
    // machine moves the throughput ratio a lot from run to run, this much less.
    const cpuUs = (used.user + used.system) / x.latenciesMs.length;
    const [dp50, xp50] = [median(d.latenciesMs), median(x.latenciesMs)];
    const load = `${clients} client${clients > 1 ? 's' : ''}, ${layout}`;
    results.push({ name: `pgbench -S direct, ${load} (p50 ${fmt(dp50)} ms)`, backend: 'postgres', n: d.latenciesMs.length, medianMs: dp50, perSecond: d.tps });
    results.push({
      name: `pgbench -S through the proxy, recording on, ${load} (p50 ${fmt(xp50)} ms, +${fmt(xp50 - dp50)} ms; ${Math.round((x.tps / d.tps) * 100)} % of direct; proxy CPU ${cpuUs.toFixed(1)} µs/tx)`,
      backend: 'postgres', n: x.latenciesMs.length, medianMs: xp50, perSecond: x.tps,
      target: clients > 1 ? '≥ 80 % of direct' : '≤ +0.2 ms p50',
    });
  }
  return results;
};

export const benchPgProxy = async (seconds: number): Promise<BenchResult[]> => {
  const target = await startProxyTarget();
  const store = await freshStore('postgres', { poolSize: 4 });
  const p = await startProxyWorld(store, target);
  pinSelf('0');
  try {
    await preparePgbench(target);
    await provisionedGrant(p.world);
    const token = await tokenOf(p.world, 'carl');
    const url = new URL(target.url);
    const direct = { host: url.hostname, port: Number(url.port || 5432), user: decodeURIComponent(url.username), dbname: url.pathname.slice(1),
      ...(url.password ? { password: decodeURIComponent(url.password) } : {}) };
    const proxied = { host: '127.0.0.1', port: p.port, user: 'carl', dbname: 'payments/read', password: token };
    const results = await measure('shared cores', direct, proxied, seconds);
    await pinServer(target, '1');
    try {
      results.push(...await measure("proxy's own core", direct, proxied, seconds));
    } finally {
      await pinServer(target, `0-${cpus().length - 1}`);
    }
    return results;
  } finally {
    pinSelf(`0-${cpus().length - 1}`);
    await p.stop();
    await store.close();
    await target.admin((c) => c.query(`DROP OWNED BY ${target.prefix}carl`).catch(() => undefined));
    await target.drop();
  }
};
