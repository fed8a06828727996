/**
 * The failover topology of docs/high-availability.md, on loopback, private ports and one temp
 * directory: etcd (one member), three PostgreSQL 15 nodes under Patroni with synchronous_mode, and
 * HAProxy sending connections to whichever node Patroni's REST API calls the primary. Every process
 * is started here and stopped by pid (Patroni, which runs PostgreSQL, as the postgres user under root).
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { answers } from '../support/postgres-server.js';
import { freePort, until as pollUntil } from '../support/processes.js';

export interface Member { name: string; role: string; state: string; lag?: number | string }

export interface HaCluster {
  /** A database through HAProxy: always the current primary. */
  url(database: string): string;
  members(): Promise<Member[]>;
  leader(): Promise<string>;
  /** `patronictl switchover` to the synchronous standby; resolves once HAProxy reaches the new primary. */
  switchover(): Promise<{ from: string; to: string }>;
  /** `kill -9` of the leader's postmaster; resolves once HAProxy reaches a primary served by a new postmaster. */
  killLeader(): Promise<{ from: string; to: string }>;
  /** SIGSTOP of the leader (Patroni, the postmaster and every backend) for `ms`, then SIGCONT; resolves once HAProxy reaches a primary again. */
  freezeLeader(ms: number): Promise<{ from: string; to: string }>;
  /** The directory holding every node's data and each process's log. */
  dir: string;
  stop(): Promise<void>;
}

/** The newest PostgreSQL server installed (Debian 12: 15), as test/support/postgres-server.ts picks it. */
const pgBin = (root = '/usr/lib/postgresql'): string => join(root, readdirSync(root).sort((a, b) => Number(b) - Number(a))[0] ?? '15', 'bin');
const NODES = ['pg1', 'pg2', 'pg3'];
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls every 200 ms: the cluster's probes are HTTP calls and logins, slower than a standby's. */
const until = (ms: number, what: string, probe: () => Promise<boolean>) => pollUntil(ms, what, probe, 200);

const get = async (url: string): Promise<Response | undefined> => fetch(url, { signal: AbortSignal.timeout(2_000) }).catch(() => undefined);

/** PostgreSQL refuses to run as root: under root, Patroni (and so PostgreSQL) runs as postgres. */
const postgresUser = (): { uid: number; gid: number } | undefined => {
  if (process.getuid?.() !== 0) return undefined;
  return { uid: Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' })), gid: Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' })) };
};

interface Ports { etcdClient: number; etcdPeer: number; haproxy: number; pg: number[]; rest: number[] }

const patroniConfig = (dir: string, ports: Ports, i: number): string => `
scope: tenure-ha
name: ${NODES[i]}
restapi: { listen: 127.0.0.1:${ports.rest[i]}, connect_address: 127.0.0.1:${ports.rest[i]} }
etcd3: { hosts: 127.0.0.1:${ports.etcdClient} }
log: { level: WARNING, dir: ${dir}/log-${NODES[i]} }
bootstrap:
  dcs:
    # Fast on purpose: a lost leader is replaced after ttl, and loop_wait is how often each node looks.
    ttl: 10
    loop_wait: 1
    retry_timeout: 4
    maximum_lag_on_failover: 1048576
    # An acknowledged commit is on a standby too: failing over to that standby loses none.
    synchronous_mode: true
    postgresql:
      use_pg_rewind: true
      parameters: { shared_buffers: 16MB, max_connections: 80, wal_log_hints: 'on', max_wal_senders: 10, max_replication_slots: 10, wal_keep_size: 128MB }
  initdb: [ { encoding: UTF8 }, { auth: trust } ]
postgresql:
  listen: 127.0.0.1:${ports.pg[i]}
  connect_address: 127.0.0.1:${ports.pg[i]}
  data_dir: ${dir}/${NODES[i]}
  bin_dir: ${pgBin()}
  pgpass: ${dir}/pgpass-${NODES[i]}
  authentication:
    superuser: { username: postgres, password: postgres }
    replication: { username: replicator, password: replicator }
  parameters: { unix_socket_directories: '${dir}' }
  pg_hba: [ 'local all all trust', 'host all all 127.0.0.1/32 trust', 'host replication all 127.0.0.1/32 trust' ]
`;

/** Fast checks: a node is taken out after two failed checks half a second apart, and its sessions are cut. */
const haproxyConfig = (ports: Ports): string => `
global
  maxconn 400
defaults
  mode tcp
  timeout connect 2s
  timeout client 30m
  timeout server 30m
  timeout check 1s
listen primary
  bind 127.0.0.1:${ports.haproxy}
  option httpchk OPTIONS /primary
  http-check expect status 200
  default-server inter 500ms fastinter 250ms fall 2 rise 1 on-marked-down shutdown-sessions
${NODES.map((name, i) => `  server ${name} 127.0.0.1:${ports.pg[i]} maxconn 200 check port ${ports.rest[i]}`).join('\n')}
`;

/** Stops a process by pid: `signal`, then SIGKILL after `graceMs`. */
const stopChild = async (child: ChildProcess, signal: NodeJS.Signals, graceMs: number): Promise<void> => {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill(signal);
  // A process left frozen by a failed test gets the signal only once it runs again.
  child.kill('SIGCONT');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
};

export const startHaCluster = async (): Promise<HaCluster> => {
  const dir = mkdtempSync(join(tmpdir(), 'tenure-ha-'));
  const user = postgresUser();
  if (user) execFileSync('chown', [`${user.uid}:${user.gid}`, dir]);
  const ports: Ports = { etcdClient: await freePort(), etcdPeer: await freePort(), haproxy: await freePort(),
    pg: [await freePort(), await freePort(), await freePort()], rest: [await freePort(), await freePort(), await freePort()] };
  const children: ChildProcess[] = [];
  const named = new Map<string, ChildProcess>();
  const log = (name: string) => openSync(join(dir, `${name}.log`), 'a');
  const run = (name: string, cmd: string, args: string[], asPostgres = false) => {
    // cwd: the cluster's own directory, since the postgres user may not enter the checkout's (a
    // private temporary clone): Patroni's Python workers chdir to their parent's directory and die.
    const child = spawn(cmd, args, { stdio: ['ignore', log(name), log(name)], env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: dir, LANG: 'C.UTF-8' },
      cwd: dir, ...(asPostgres && user ? user : {}) });
    children.push(child);
    named.set(name, child);
    return child;
  };
  const rest = (name: string) => `http://127.0.0.1:${ports.rest[NODES.indexOf(name)]}`;
  const postmasterPid = (name: string): number => Number(readFileSync(join(dir, name, 'postmaster.pid'), 'utf8').split('\n')[0]);

  const stop = async () => {
    const haproxy = named.get('haproxy');
    const etcd = named.get('etcd');
    if (haproxy) await stopChild(haproxy, 'SIGTERM', 5_000);
    // Patroni stops its PostgreSQL on SIGTERM; should it be killed instead, the postmaster is stopped here.
    await Promise.all(NODES.flatMap((name) => named.get(name) ?? []).map((child) => stopChild(child, 'SIGTERM', 20_000)));
    for (const name of NODES) {
      if (!existsSync(join(dir, name, 'postmaster.pid'))) continue;
      try { process.kill(postmasterPid(name), 'SIGCONT'); process.kill(postmasterPid(name), 'SIGQUIT'); } catch { /* already gone */ }
    }
    if (etcd) await stopChild(etcd, 'SIGTERM', 5_000);
    rmSync(dir, { recursive: true, force: true });
  };
  process.once('exit', () => { for (const child of children) child.kill('SIGKILL'); });

  const members = async (): Promise<Member[]> => {
    const res = await get(`${rest(NODES[0]!)}/cluster`) ?? await get(`${rest(NODES[1]!)}/cluster`);
    if (!res?.ok) return [];
    return ((await res.json()) as { members: Member[] }).members;
  };
  const leader = async (): Promise<string> => (await members()).find((m) => m.role === 'leader')?.name ?? '';
  const url = (database: string) => `postgres://postgres@127.0.0.1:${ports.haproxy}/${database}`;
  const primaryIs = async (name: string): Promise<boolean> => {
    if (!(await get(`${rest(name)}/primary`))?.ok) return false;
    if (!(await answers(url('postgres')))) return false;
    return true;
  };

  try {
    run('etcd', 'etcd', ['--name', 'e1', '--data-dir', join(dir, 'etcd'), '--listen-client-urls', `http://127.0.0.1:${ports.etcdClient}`,
      '--advertise-client-urls', `http://127.0.0.1:${ports.etcdClient}`, '--listen-peer-urls', `http://127.0.0.1:${ports.etcdPeer}`,
      '--initial-advertise-peer-urls', `http://127.0.0.1:${ports.etcdPeer}`, '--initial-cluster', `e1=http://127.0.0.1:${ports.etcdPeer}`]);
    await until(20_000, 'etcd answers', async () => Boolean((await get(`http://127.0.0.1:${ports.etcdClient}/health`))?.ok));
    const startNode = (i: number) => {
      const file = join(dir, `${NODES[i]}.yml`);
      writeFileSync(file, patroniConfig(dir, ports, i));
      execFileSync('mkdir', ['-p', join(dir, `log-${NODES[i]}`)]);
      if (user) execFileSync('chown', ['-R', `${user.uid}:${user.gid}`, file, join(dir, `log-${NODES[i]}`)]);
      run(NODES[i]!, 'patroni', [file], true);
    };
    startNode(0);
    await until(60_000, 'pg1 bootstraps as the primary', async () => Boolean((await get(`${rest('pg1')}/primary`))?.ok));
    startNode(1);
    startNode(2);
    run('haproxy', 'haproxy', ['-db', '-f', (() => { const f = join(dir, 'haproxy.cfg'); writeFileSync(f, haproxyConfig(ports)); return f; })()]);
    await until(120_000, 'three members streaming, one of them the synchronous standby', async () => {
      const all = await members();
      return all.length === 3 && all.filter((m) => m.state === 'streaming' || m.state === 'running').length === 3 && all.some((m) => m.role === 'sync_standby');
    });
    await until(20_000, 'HAProxy reaches the primary', () => answers(url('postgres')));
  } catch (error) {
    const tails = ['etcd', ...NODES, 'haproxy'].map((name) => `--- ${name}\n${existsSync(join(dir, `${name}.log`)) ? readFileSync(join(dir, `${name}.log`), 'utf8').slice(-2000) : ''}`);
    await stop();
    throw new Error(`${(error as Error).message}\n${tails.join('\n')}`);
  }

  const switchover = async () => {
    const all = await members();
    const from = all.find((m) => m.role === 'leader')!.name;
    const to = all.find((m) => m.role === 'sync_standby')!.name;
    execFileSync('patronictl', ['-c', join(dir, `${from}.yml`), 'switchover', '--leader', from, '--candidate', to, '--force'],
      { env: { ...process.env, HOME: dir }, stdio: 'pipe', timeout: 60_000 });
    await until(60_000, `${to} is the primary behind HAProxy`, () => primaryIs(to));
    return { from, to };
  };

  /** A primary other than the one of `before` (another node, or the same node's new postmaster) answers through HAProxy. */
  const newPrimary = async (from: string, oldPid: number): Promise<string> => {
    let to = '';
    await until(90_000, `a new primary after ${from}`, async () => {
      to = await leader();
      if (!to || !(await primaryIs(to))) return false;
      return to !== from || (existsSync(join(dir, to, 'postmaster.pid')) && postmasterPid(to) !== oldPid);
    });
    return to;
  };

  const killLeader = async () => {
    const from = await leader();
    const pid = postmasterPid(from);
    process.kill(pid, 'SIGKILL');
    return { from, to: await newPrimary(from, pid) };
  };

  const freezeLeader = async (ms: number) => {
    const from = await leader();
    const pid = postmasterPid(from);
    const backends = execFileSync('pgrep', ['-P', String(pid)], { encoding: 'utf8' }).split('\n').filter(Boolean).map(Number);
    const frozen = [named.get(from)!.pid!, pid, ...backends];
    for (const p of frozen) process.kill(p, 'SIGSTOP');
    await sleep(ms);
    for (const p of frozen) { try { process.kill(p, 'SIGCONT'); } catch { /* a backend that ended meanwhile */ } }
    await until(90_000, 'a primary behind HAProxy after the freeze', async () => { const l = await leader(); return l !== '' && primaryIs(l); });
    return { from, to: await leader() };
  };

  return { url, members, leader, switchover, killLeader, freezeLeader, dir, stop };
};
