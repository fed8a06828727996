/** Debian's PgBouncer in transaction pooling mode, in front of a PostgreSQL server, on a free port and a temp directory. */
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { answers } from './postgres-server.js';
import { freePort, stopper } from './processes.js';

export interface PgBouncer {
  /** `url` (a database on the server behind it) as reached through PgBouncer. */
  via(url: string): string;
  stop(): Promise<void>;
}

/** PgBouncer will not run as root: under root the test runs it as postgres, like the private PostgreSQL server. */
const asPostgres = (): boolean => process.getuid?.() === 0;

/** `settings`: more `[pgbouncer]` lines, such as the HA test's timeouts. */
export const startPgBouncer = async (server: { host: string; port: number; user: string }, settings: string[] = []): Promise<PgBouncer> => {
  const dir = mkdtempSync(join(tmpdir(), 'tenure-pgbouncer-'));
  const port = await freePort();
  writeFileSync(join(dir, 'users.txt'), `"${server.user}" ""\n`);
  writeFileSync(join(dir, 'pgbouncer.ini'), [
    '[databases]', `* = host=${server.host} port=${server.port}`,
    '[pgbouncer]', 'listen_addr = 127.0.0.1', `listen_port = ${port}`, 'unix_socket_dir =',
    'auth_type = trust', `auth_file = ${join(dir, 'users.txt')}`,
    // What the test is about: a server connection serves one transaction, then any other client.
    'pool_mode = transaction', 'default_pool_size = 4', 'max_client_conn = 200',
    `logfile = ${join(dir, 'pgbouncer.log')}`, ...settings, '',
  ].join('\n'));
  if (asPostgres()) execFileSync('chown', ['-R', 'postgres', dir]);
  const args = [join(dir, 'pgbouncer.ini')];
  const child = asPostgres() ? spawn('runuser', ['-u', 'postgres', '--', 'pgbouncer', ...args], { stdio: 'ignore' })
    : spawn('pgbouncer', args, { stdio: 'ignore' });
  // runuser passes SIGTERM on to pgbouncer, whose SIGTERM is an immediate shutdown.
  const stop = stopper(child, dir, 'SIGTERM');
  const via = (url: string) => { const u = new URL(url); u.hostname = '127.0.0.1'; u.port = String(port); return u.toString(); };
  for (let i = 0; i < 100; i += 1) {
    if (await answers(via(`postgres://${server.user}@x/postgres`))) return { via, stop };
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  await stop();
  throw new Error(`pgbouncer on port ${port} did not start (is it installed? scripts/system-deps.sh)`);
};
