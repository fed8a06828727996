import { execFileSync, spawn } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { answers } from './postgres-server.js';
import { freePort, stopper } from './processes.js';

/**
 * A private PostgreSQL cluster set up as docs/sessions.md asks of a proxied target: TLS only, and
 * every role but the test's superuser signs in only with a client certificate from the proxy's CA
 * (pg_hba `hostssl … trust clientcert=verify-ca`, plain TCP rejected). `proxyCert`/`proxyKey` are
 * that certificate, the credential only the proxy holds; `rootCert` verifies the server.
 */
export interface TlsCluster {
  port: number; adminUrl: string; rootCert: string; proxyCert: string; proxyKey: string;
  /** The server's certificate (for 127.0.0.1, of the same CA): a test proxy may present it to its own clients. */
  serverCert: string; serverKey: string;
  stop(): Promise<void>;
}

const pgBinDir = (): string => {
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) throw new Error('PostgreSQL is not installed: run scripts/system-deps.sh');
  return join(root, String(readdirSync(root).sort((a, b) => Number(b) - Number(a))[0]), 'bin');
};

const openssl = (dir: string, ...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'ignore' });

/** A test CA, a server certificate for 127.0.0.1 and the proxy's client certificate, all signed by it. */
const makeCertificates = (dir: string): void => {
  const key = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  openssl(dir, 'req', '-x509', ...key, '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '2', '-subj', '/CN=tenure-test-upstream-ca');
  writeFileSync(join(dir, 'server.ext'), 'subjectAltName=IP:127.0.0.1\n');
  for (const [name, cn, ext] of [['server', '127.0.0.1', ['-extfile', 'server.ext']], ['proxy', 'tenure-proxy', []]] as const) {
    openssl(dir, 'req', ...key, '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${cn}`);
    openssl(dir, 'x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', `${name}.crt`, '-days', '2', ...ext);
  }
};

/** The pg_hba.conf docs/sessions.md asks for: managed roles only with the proxy's certificate, plain TCP rejected. */
export const PROXY_ONLY_HBA = [
  'local all all trust',
  'hostssl all postgres 127.0.0.1/32 trust',
  'hostssl all all 127.0.0.1/32 trust clientcert=verify-ca',
  'host all all 127.0.0.1/32 reject'];

export const startTlsPostgres = async (hba: string[] = PROXY_ONLY_HBA): Promise<TlsCluster> => {
  const bin = pgBinDir();
  const dir = mkdtempSync(join(tmpdir(), 'tenure-tls-pg-'));
  makeCertificates(dir);
  const user = process.getuid?.() === 0
    ? { uid: Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' })), gid: Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' })) }
    : undefined;
  if (user) for (const file of ['', 'server.key', 'server.crt', 'ca.crt']) chownSync(join(dir, file), user.uid, user.gid);
  execFileSync(join(bin, 'initdb'), ['-D', join(dir, 'data'), '-U', 'postgres', '--auth=trust', '--no-sync'], { stdio: 'ignore', cwd: dir, ...user });
  writeFileSync(join(dir, 'data', 'pg_hba.conf'), [...hba, ''].join('\n'));
  const port = await freePort();
  const child = spawn(join(bin, 'postgres'), [
    '-D', join(dir, 'data'), '-p', String(port), '-k', dir, '-c', 'listen_addresses=127.0.0.1', '-c', 'fsync=off',
    '-c', 'ssl=on', '-c', `ssl_cert_file=${join(dir, 'server.crt')}`, '-c', `ssl_key_file=${join(dir, 'server.key')}`, '-c', `ssl_ca_file=${join(dir, 'ca.crt')}`,
  ], { stdio: 'ignore', cwd: dir, ...user });
  const stop = stopper(child, dir, 'SIGINT');
  const adminUrl = `postgres://postgres@127.0.0.1:${port}/postgres?sslmode=no-verify`;
  for (let i = 0; i < 150; i += 1) {
    if (await answers(adminUrl)) {
      return { port, adminUrl, rootCert: join(dir, 'ca.crt'), proxyCert: join(dir, 'proxy.crt'), proxyKey: join(dir, 'proxy.key'),
        serverCert: join(dir, 'server.crt'), serverKey: join(dir, 'server.key'), stop };
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  await stop();
  throw new Error(`the private TLS PostgreSQL on port ${port} did not start`);
};
