/**
 * A private PostgreSQL primary and a hot standby streaming from it (pg_basebackup -R), on private
 * ports in one temp directory: the read replica of docs/high-availability.md. Both servers run as
 * the postgres user under root, in the pair's own directory, and are stopped by pid.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { answers } from './postgres-server.js';
import { freePort, until } from './processes.js';

const ROOT = '/usr/lib/postgresql';

/** The newest installed server's binaries (Debian 12: 15), or undefined when none is installed. */
export const pgBinDir = (): string | undefined => {
  if (!existsSync(ROOT)) return undefined;
  const bin = join(ROOT, readdirSync(ROOT).sort((a, b) => Number(b) - Number(a))[0] ?? '15', 'bin');
  return existsSync(join(bin, 'pg_basebackup')) ? bin : undefined;
};

export interface ReplicaPair {
  primary(database: string): string;
  replica(database: string): string;
  /** Runs `text` on the standby (as postgres). */
  onReplica(text: string): Promise<pg.QueryResult>;
  /** Stops replaying WAL on the standby, and waits until it has stopped. */
  pauseReplay(): Promise<void>;
  resumeReplay(): Promise<void>;
  /** Waits until the standby has replayed everything the primary had written when called. */
  caughtUp(): Promise<void>;
  /** Stops the standby at once (SIGQUIT, immediate shutdown). */
  stopReplica(): Promise<void>;
  stop(): Promise<void>;
}


const postgresUser = (): { uid: number; gid: number } | undefined => {
  if (process.getuid?.() !== 0) return undefined;
  return { uid: Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' })), gid: Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' })) };
};

const once = async <T>(url: string, fn: (client: pg.Client) => Promise<T>): Promise<T> => {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2_000 });
  client.on('error', () => undefined);
  await client.connect();
  try { return await fn(client); } finally { await client.end().catch(() => undefined); }
};

const stopChild = async (child: ChildProcess, signal: NodeJS.Signals): Promise<void> => {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill(signal);
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
};

export const startReplicaPair = async (): Promise<ReplicaPair> => {
  const bin = pgBinDir();
  if (!bin) throw new Error('no PostgreSQL server with pg_basebackup is installed: run scripts/system-deps.sh');
  const dir = mkdtempSync(join(tmpdir(), 'tenure-replica-'));
  const user = postgresUser();
  if (user) execFileSync('chown', [`${user.uid}:${user.gid}`, dir]);
  // cwd: the pair's own directory, which the postgres user may enter (a private clone's may not be).
  const as = { cwd: dir, ...(user ?? {}) };
  const run = (cmd: string, args: string[]) => execFileSync(join(bin, cmd), args, { ...as, stdio: 'ignore' });
  const [primaryPort, replicaPort] = [await freePort(), await freePort()];
  const children: ChildProcess[] = [];
  const serve = (data: string, port: number) => {
    // fsync off: a throwaway pair, removed after the test; durability is not what it tests.
    const child = spawn(join(bin, 'postgres'), ['-D', join(dir, data), '-p', String(port), '-k', dir, '-c', 'listen_addresses=127.0.0.1', '-c', 'fsync=off'],
      { ...as, stdio: 'ignore' });
    children.push(child);
    return child;
  };
  const primary = (database: string) => `postgres://postgres@127.0.0.1:${primaryPort}/${database}`;
  const replica = (database: string) => `postgres://postgres@127.0.0.1:${replicaPort}/${database}`;
  process.once('exit', () => { for (const child of children) child.kill('SIGKILL'); });
  const stop = async () => {
    // Immediate shutdown: nothing of the pair is kept, and a fast one waits for the standby to take the last WAL.
    await Promise.all(children.map((child) => stopChild(child, 'SIGQUIT')));
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    run('initdb', ['-D', join(dir, 'primary'), '-U', 'postgres', '--auth=trust', '--no-sync']);
    serve('primary', primaryPort);
    await until(20_000, 'the primary starts', () => answers(primary('postgres')));
    // -R writes standby.signal and primary_conninfo: the copy starts as a standby streaming from the primary.
    run('pg_basebackup', ['-D', join(dir, 'replica'), '-h', '127.0.0.1', '-p', String(primaryPort), '-U', 'postgres', '-R', '-X', 'stream', '-c', 'fast', '--no-sync']);
    const standby = serve('replica', replicaPort);
    await until(20_000, 'the standby starts', () => answers(replica('postgres')));
    const onReplica = (text: string) => once(replica('postgres'), (client) => client.query(text));
    return {
      primary, replica, onReplica, stop,
      pauseReplay: async () => {
        await onReplica('SELECT pg_wal_replay_pause()');
        await until(10_000, 'replay pauses', async () => (await onReplica('SELECT pg_get_wal_replay_pause_state() AS s')).rows[0].s === 'paused');
      },
      resumeReplay: async () => { await onReplica('SELECT pg_wal_replay_resume()'); },
      caughtUp: async () => {
        const lsn = (await once(primary('postgres'), (client) => client.query('SELECT pg_current_wal_lsn()::text AS lsn'))).rows[0].lsn as string;
        await until(20_000, `the standby replays up to ${lsn}`, async () =>
          (await once(replica('postgres'), (client) => client.query('SELECT pg_last_wal_replay_lsn() >= $1::pg_lsn AS done', [lsn]))).rows[0].done === true);
      },
      stopReplica: () => stopChild(standby, 'SIGQUIT'),
    };
  } catch (error) {
    await stop();
    throw error;
  }
};
