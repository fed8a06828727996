/**
 * `npm run bench -- --only sshproxy`: OpenSSH's `ssh` through Tenure's SSH proxy, recording on,
 * beside the same `ssh` straight to sshd in the same run (issue 18). Direct signs in with the key
 * the proxy itself uses upstream, so both runs end in the same account on the same sshd.
 *
 * - Throughput: `cat` of a 100 MiB text file on the host, read to /dev/null (median of runs). Text,
 *   not /dev/zero: NUL bytes would cost six bytes each in the asciicast's JSON, which no terminal shows.
 *   The time includes signing in, which `ssh … true` measures on its own.
 * - Latency: one `ssh … cat` kept open, driven by a small Node client that writes a line and waits for
 *   its echo, round trip after round trip (p50, p99).
 * The proxy runs in this process, pinned to core 0; `ssh` and its driver are pinned to core 1, as in the
 * pgbench benchmark. sshd is started before the pinning and left unpinned (both cores), like PostgreSQL
 * there, as is the PostgreSQL server holding the recording. Needs root (the private sshd): skipped otherwise.
 */
import { execFile, execFileSync, spawn } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { sql } from 'drizzle-orm';
import { rawRows, type Store } from '../src/store/database.js';
import { freshStore } from '../test/support/backends.js';
import { sessionsOf } from '../test/support/pg-proxy-world.js';
import { grantThrough } from '../test/support/flows.js';
import { isRoot, SSH, SSH_TEST_USER } from '../test/support/sshd.js';
import { certify, LOGIN, SSH_OPTIONS, startSshProxyWorld, type SshProxyWorld } from '../test/support/ssh-proxy-world.js';
import { median, type BenchResult } from './report.js';

const run = promisify(execFile);
const PIN = cpus().length > 1 && existsSync('/usr/bin/taskset');
const MiB = 2 ** 20;

const pinSelf = (cores: string) => { if (PIN) execFileSync('/usr/bin/taskset', ['-a', '-p', '-c', cores, String(process.pid)], { stdio: 'ignore' }); };
/**
 * OpenSSH's `ssh` would agree the post-quantum sntrup761x25519 with sshd but curve25519 with the
 * proxy (ssh2 offers nothing newer), which alone made the direct sign-in some 60 ms slower here:
 * both paths use curve25519, so the comparison is of the relaying, not of the key exchange.
 */
const KEX = ['-o', 'KexAlgorithms=curve25519-sha256'];

/** A command line run on core 1 (when pinning), away from the proxy. */
const onClientCore = (argv: string[]) => (PIN ? ['/usr/bin/taskset', '-c', '1', ...argv] : argv);

export interface SshBenchSizes { mib: number; roundTrips: number; runs: number }

/** Printable lines, as a log file is: what a terminal session would show. */
const writeTextFile = (path: string, mib: number) => {
  const block = Buffer.from(`${randomBytes(MiB).toString('base64').replace(/(.{76})/g, '$1\n')}`).subarray(0, MiB);
  const whole = Buffer.concat(Array.from({ length: mib }, () => block));
  writeFileSync(path, whole, { mode: 0o644 });
};

/** Milliseconds from starting `ssh … command` to its exit, its output going to /dev/null. */
const timedSsh = (argv: string[], command: string) => new Promise<number>((resolve, reject) => {
  const start = performance.now();
  const [program, ...rest] = onClientCore([...argv.slice(0, 1), ...KEX, ...argv.slice(1), command]);
  const child = spawn(program!, rest, { stdio: ['ignore', 'ignore', 'pipe'], env: { PATH: '/usr/bin:/bin', LC_ALL: 'C' } });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (t: string) => { stderr += t; });
  child.on('close', (code) => (code === 0 ? resolve(performance.now() - start) : reject(new Error(`ssh ${command} exited ${code}: ${stderr}`))));
});

/** The echo client: its own process on the client core, so its work is not the proxy's. Prints the round trips in ms as JSON. */
const ECHO_CLIENT = `
const { spawn } = require('node:child_process');
const [n, warm, program, ...args] = process.argv.slice(1);
const child = spawn(program, [...args, 'cat'], { stdio: ['pipe', 'pipe', 'inherit'] });
let text = ''; let waiting;
child.stdout.setEncoding('utf8').on('data', (t) => { text += t; if (text.endsWith('\\n') && waiting) { const w = waiting; waiting = undefined; text = ''; w(); } });
const trip = () => new Promise((resolve) => { waiting = resolve; child.stdin.write('x\\n'); });
const closed = new Promise((resolve) => child.on('close', resolve));
(async () => {
  for (let i = 0; i < Number(warm); i += 1) await trip();
  const ms = [];
  for (let i = 0; i < Number(n); i += 1) { const t = process.hrtime.bigint(); await trip(); ms.push(Number(process.hrtime.bigint() - t) / 1e6); }
  child.stdin.end();
  await closed;
  process.stdout.write(JSON.stringify(ms));
})();`;

const roundTrips = async (argv: string[], n: number): Promise<number[]> => {
  const [program, ...rest] = onClientCore([process.execPath, '-e', ECHO_CLIENT, String(n), String(Math.min(20, n)), ...argv.slice(0, 1), ...KEX, ...argv.slice(1)]);
  const { stdout } = await run(program!, rest, { maxBuffer: 1 << 24, env: { PATH: '/usr/bin:/bin', LC_ALL: 'C' } });
  return JSON.parse(stdout) as number[];
};

const quantile = (values: number[], q: number) => [...values].sort((a, b) => a - b)[Math.min(values.length - 1, Math.floor(q * values.length))]!;

/** Waits until the proxy has ended (and stored) every session; their ids. */
const settled = async (store: Store): Promise<string[]> => {
  for (;;) {
    const rows = await sessionsOf(store);
    if (rows.every((r) => r.ended_at !== null)) return rows.map((r) => r.id);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
};

const recordedBytes = async (store: Store, session: string): Promise<number> => Number((await rawRows<{ bytes: string | null }>(store.db,
  sql`SELECT sum(octet_length(record))::text AS bytes FROM proxy_statements WHERE session_id = ${session}`))[0]?.bytes ?? 0);

const f = (n: number, digits = 3) => n.toFixed(digits);

/** Sign-in alone (`ssh … true`), then the file read, direct and proxied in turn each run. */
const throughput = async (x: Paths, store: Store, file: string, sizes: SshBenchSizes): Promise<BenchResult[]> => {
  const times = { direct: [] as number[], proxied: [] as number[], stored: [] as number[], connectDirect: [] as number[], connectProxied: [] as number[] };
  let bytes = 0;
  // The recording is queued in memory while PostgreSQL catches up: how far this process's peak grows shows it.
  const peakBefore = process.resourceUsage().maxRSS;
  for (let i = 0; i < sizes.runs; i += 1) {
    times.connectDirect.push(await timedSsh(x.directArgs, 'true'));
    times.connectProxied.push(await timedSsh(x.proxiedArgs, 'true'));
    const before = new Set(await settled(store));
    times.direct.push(await timedSsh(x.directArgs, `cat ${file}`));
    const start = performance.now();
    times.proxied.push(await timedSsh(x.proxiedArgs, `cat ${file}`));
    const session = (await settled(store)).find((id) => !before.has(id))!;
    times.stored.push(performance.now() - start);
    bytes = await recordedBytes(store, session);
  }
  const peakGrowthMiB = (process.resourceUsage().maxRSS - peakBefore) / 1024;
  const [cd, cp, d, p, s] = [median(times.connectDirect), median(times.connectProxied), median(times.direct), median(times.proxied), median(times.stored)];
  const rate = (ms: number) => sizes.mib / (ms / 1000);
  return [
    { name: 'ssh true direct (connect, sign in, exit)', backend: 'postgres', n: 1, medianMs: cd, perSecond: 1000 / cd },
    { name: `ssh true through the proxy (${cp >= cd ? "+" : "−"}${f(Math.abs(cp - cd), 1)} ms)`, backend: 'postgres', n: 1, medianMs: cp, perSecond: 1000 / cp },
    { name: `ssh cat ${sizes.mib} MiB direct (MiB/s)`, backend: 'postgres', n: sizes.mib, medianMs: d, perSecond: rate(d) },
    { name: `ssh cat ${sizes.mib} MiB through the proxy, recording on (MiB/s; ${Math.round((d / p) * 100)} % of direct; `
      + `recording ${f(bytes / MiB, 1)} MiB stored, all of it ${f(s / 1000, 2)} s after start; peak RSS +${f(peakGrowthMiB, 0)} MiB)`,
    backend: 'postgres', n: sizes.mib, medianMs: p, perSecond: rate(p) },
  ];
};

const latency = async (x: Paths, store: Store, n: number): Promise<BenchResult[]> => {
  const direct = await roundTrips(x.directArgs, n);
  const proxied = await roundTrips(x.proxiedArgs, n);
  await settled(store);
  const [d50, p50] = [median(direct), median(proxied)];
  return [
    { name: `ssh echo round trip direct, one session (p50 ${f(d50)} ms, p99 ${f(quantile(direct, 0.99))} ms)`, backend: 'postgres', n, medianMs: d50, perSecond: 1000 / d50 },
    { name: `ssh echo round trip through the proxy, recording on (p50 ${f(p50)} ms, +${f(p50 - d50)} ms, p99 ${f(quantile(proxied, 0.99))} ms)`,
      backend: 'postgres', n, medianMs: p50, perSecond: 1000 / p50 },
  ];
};

/** `ssh` up to the remote command: straight to sshd with the proxy's upstream key, and through the proxy as carl with his certificate. */
interface Paths { sshd: SshProxyWorld['sshd']; directArgs: string[]; proxiedArgs: string[] }

const pathsOf = async (world: SshProxyWorld): Promise<Paths> => {
  const grant = await grantThrough(world.w, 'carl', { entitlement: 'bastion/deploy', justification: 'benchmark', duration: '1d' }, ['sam', 'olivia', 'selma']);
  const certificate = await certify(world, grant);
  return {
    sshd: world.sshd,
    directArgs: [SSH, ...SSH_OPTIONS, '-i', world.keys.upstream.privatePath, '-p', String(world.sshd.port), `${SSH_TEST_USER}@127.0.0.1`],
    proxiedArgs: [SSH, ...SSH_OPTIONS, '-i', world.keys.carl.privatePath, '-o', `CertificateFile=${certificate}`,
      '-p', String(world.proxy.address().port), `${LOGIN}@127.0.0.1`],
  };
};

export const benchSshProxy = async (sizes: SshBenchSizes): Promise<BenchResult[]> => {
  if (!isRoot()) {
    console.error('sshproxy: skipped, the private sshd needs root');
    return [];
  }
  const store = await freshStore('postgres', { poolSize: 4 });
  const world = await startSshProxyWorld({ store, config: { handshakeTimeoutMs: 10_000 } });
  try {
    const x = await pathsOf(world);
    const file = join(x.sshd.dir, 'read-me.txt');
    writeTextFile(file, sizes.mib);
    pinSelf('0');
    const results = [...await throughput(x, store, file, sizes), ...await latency(x, store, sizes.roundTrips)];
    if (world.errors.length > 0) throw new Error(`the proxy reported errors: ${world.errors.map((e) => e.message).join('; ')}`);
    return results;
  } finally {
    pinSelf(`0-${cpus().length - 1}`);
    await world.stop();
    await store.close();
  }
};
