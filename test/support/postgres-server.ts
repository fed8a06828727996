import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';

const DEFAULT_URL = 'postgres://postgres@127.0.0.1:5432/test';

/** Whether a server answers a query at `url`; used while waiting for one to start. */
export const answers = async (url: string): Promise<boolean> => {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2000 });
  // A server going away mid-probe must not surface as an unhandled 'error' event.
  client.on('error', () => undefined);
  try {
    await client.connect();
    await client.query('SELECT 1');
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
};

const pgBinDir = (): string => {
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) throw new Error('no PostgreSQL server answers and none is installed: run scripts/system-deps.sh');
  const version = readdirSync(root).sort((a, b) => Number(b) - Number(a))[0];
  return join(root, String(version), 'bin');
};

/** Starts a throwaway cluster in a temp dir (trust auth, private port), stopped when this process exits. */
const startPrivateServer = async (): Promise<string> => {
  const bin = pgBinDir();
  const dir = mkdtempSync(join(tmpdir(), 'tenure-pg-'));
  const port = 20000 + (process.pid % 20000);
  const asPostgres = process.getuid?.() === 0 ? ['-u', 'postgres'] : [];
  if (asPostgres.length) execFileSync('chown', ['postgres', dir]);
  const run = (cmd: string, args: string[]) =>
    asPostgres.length ? execFileSync('runuser', [...asPostgres, '--', join(bin, cmd), ...args], { stdio: 'ignore' })
      : execFileSync(join(bin, cmd), args, { stdio: 'ignore' });
  run('initdb', ['-D', join(dir, 'data'), '-U', 'postgres', '--auth=trust']);
  const child = spawn(asPostgres.length ? 'runuser' : join(bin, 'postgres'),
    asPostgres.length ? [...asPostgres, '--', join(bin, 'postgres'), '-D', join(dir, 'data'), '-p', String(port), '-k', dir, '-c', 'listen_addresses=127.0.0.1']
      : ['-D', join(dir, 'data'), '-p', String(port), '-k', dir, '-c', 'listen_addresses=127.0.0.1'],
    { stdio: 'ignore', detached: false });
  process.on('exit', () => child.kill('SIGTERM'));
  const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
  for (let i = 0; i < 100; i += 1) {
    if (await answers(url)) return url;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`private PostgreSQL on port ${port} did not start`);
};

let adminUrl: Promise<string> | undefined;

/** The server tests run on: TEST_DATABASE_URL, else the machine's on 127.0.0.1:5432, else a private one. */
export const postgresAdminUrl = (): Promise<string> => {
  adminUrl ??= (async () => {
    const url = process.env.TEST_DATABASE_URL ?? DEFAULT_URL;
    if (await answers(url)) return url;
    if (process.env.TEST_DATABASE_URL) throw new Error(`TEST_DATABASE_URL does not answer: ${url}`);
    return startPrivateServer();
  })();
  return adminUrl;
};

let counter = 0;
let swept = false;

const alive = (pid: number): boolean => {
  try { process.kill(pid, 0); return true; } catch (error) { return (error as NodeJS.ErrnoException).code === 'EPERM'; }
};

/** Drops scratch databases left by test processes that died before their cleanup ran. */
const sweepAbandoned = async (admin: pg.Client): Promise<void> => {
  if (swept) return;
  swept = true;
  const { rows } = await admin.query<{ datname: string }>("SELECT datname FROM pg_database WHERE datname LIKE 'tenure\\_t\\_%'");
  for (const { datname } of rows) {
    const pid = Number(/^tenure_t_(\d+)_/.exec(datname)?.[1]);
    if (Number.isInteger(pid) && !alive(pid)) await admin.query(`DROP DATABASE IF EXISTS ${datname} WITH (FORCE)`).catch(() => undefined);
  }
};

/** A new empty database on the test server; returns its URL and a function that drops it. */
export const createScratchDatabase = async (): Promise<{ url: string; drop: () => Promise<void> }> => {
  const base = await postgresAdminUrl();
  counter += 1;
  const name = `tenure_t_${process.pid}_${Date.now().toString(36)}_${counter}`;
  const admin = new pg.Client({ connectionString: base });
  await admin.connect();
  await sweepAbandoned(admin);
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(base);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: async () => {
      const client = new pg.Client({ connectionString: base });
      await client.connect();
      await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await client.end();
    },
  };
};
