import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { answers } from './postgres-server.js';
import { freePort, stopper } from './processes.js';

/**
 * A private PostgreSQL cluster that demands scram-sha-256 passwords for every login, local or TCP.
 * The shared test server trusts every local login, so a test there could never show that a login
 * is refused; this one can.
 */
export interface ScramCluster {
  host: string;
  port: number;
  superuser: string;
  superuserPassword: string;
  /** The superuser's URL, password included: give it to connectors by secret reference only. */
  url: string;
  stop: () => Promise<void>;
}

const pgBinDir = (): string => {
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) throw new Error('PostgreSQL is not installed: run scripts/system-deps.sh');
  const version = readdirSync(root).sort((a, b) => Number(b) - Number(a))[0];
  return join(root, String(version), 'bin');
};

/** initdb and postgres refuse to run as root, so as root they run as the postgres user. */
const runAs = (): { uid: number; gid: number } | undefined => {
  if (process.getuid?.() !== 0) return undefined;
  const id = (flag: string) => Number(execFileSync('id', [flag, 'postgres'], { encoding: 'utf8' }).trim());
  return { uid: id('-u'), gid: id('-g') };
};

const initCluster = (bin: string, dir: string, password: string, user: ReturnType<typeof runAs>): void => {
  const pwfile = join(dir, 'pwfile');
  writeFileSync(pwfile, `${password}\n`, { mode: 0o600 });
  if (user) {
    chownSync(dir, user.uid, user.gid);
    chownSync(pwfile, user.uid, user.gid);
  }
  execFileSync(join(bin, 'initdb'), [
    '-D', join(dir, 'data'), '-U', 'postgres', '--pwfile', pwfile, '--no-sync',
    '--auth-local=scram-sha-256', '--auth-host=scram-sha-256',
  ], { stdio: 'ignore', cwd: dir, ...user });
  rmSync(pwfile);
};

/** Starts the cluster in a temp dir on a free port; `stop()` (or this process's exit) ends it. */
export const startScramPostgres = async (): Promise<ScramCluster> => {
  const bin = pgBinDir();
  const user = runAs();
  const dir = mkdtempSync(join(tmpdir(), 'tenure-scram-pg-'));
  const password = randomBytes(18).toString('base64url');
  initCluster(bin, dir, password, user);
  const port = await freePort();
  const child = spawn(join(bin, 'postgres'), [
    '-D', join(dir, 'data'), '-p', String(port), '-k', dir,
    '-c', 'listen_addresses=127.0.0.1', '-c', 'fsync=off', '-c', 'password_encryption=scram-sha-256',
  ], { stdio: 'ignore', cwd: dir, ...user });
  const stop = stopper(child, dir, 'SIGINT');
  const url = `postgres://postgres:${encodeURIComponent(password)}@127.0.0.1:${port}/postgres`;
  for (let i = 0; i < 150; i += 1) {
    if (await answers(url)) {
      return { host: '127.0.0.1', port, superuser: 'postgres', superuserPassword: password, url, stop };
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  await stop();
  throw new Error(`the private scram PostgreSQL on port ${port} did not start`);
};
