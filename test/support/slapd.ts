import { execFileSync, spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'ldapts';
import { freePort, stopper } from './processes.js';

/**
 * A private OpenLDAP server for one test file: its own slapd.conf, mdb database and port, seeded
 * offline with slapadd (so seeding cannot race the server's start), and run in the foreground as a
 * child process of the test. Needs the Debian packages slapd and ldap-utils.
 */
export interface Slapd {
  url: string;
  /** The rootdn: the directory's administrator, whom no access control restricts. */
  bindDn: string;
  password: string;
  suffix: string;
  usersDn: string;
  groupsDn: string;
  stop: () => Promise<void>;
}

const SLAPD = '/usr/sbin/slapd';
const SLAPADD = '/usr/sbin/slapadd';
const SCHEMAS = ['core', 'cosine', 'inetorgperson', 'nis'].map((name) => `/etc/ldap/schema/${name}.schema`);
const SUFFIX = 'dc=tenure,dc=test';
/** Seeded group names go into LDIF verbatim, so they stay plain. */
const PLAIN_NAME = /^[A-Za-z0-9][A-Za-z0-9 _-]*$/;

/** `{SSHA}` as slappasswd makes it, so the config file never holds the password in clear. */
const ssha = (password: string): string => {
  const salt = randomBytes(8);
  const digest = createHash('sha1').update(password).update(salt).digest();
  return `{SSHA}${Buffer.concat([digest, salt]).toString('base64')}`;
};

const slapdConf = (dir: string, rootDn: string, password: string): string => [
  ...SCHEMAS.map((schema) => `include ${schema}`),
  `pidfile ${join(dir, 'slapd.pid')}`,
  `argsfile ${join(dir, 'slapd.args')}`,
  'modulepath /usr/lib/ldap',
  'moduleload back_mdb',
  'database mdb',
  `suffix "${SUFFIX}"`,
  `rootdn "${rootDn}"`,
  `rootpw ${ssha(password)}`,
  `directory ${join(dir, 'data')}`,
  // Only the rootdn may read, so a test that forgets to bind fails instead of passing anonymously.
  'access to * by * none',
  '',
].join('\n');

/** Every group starts with the groups OU as its member: groupOfNames cannot be empty. */
const seedLdif = (usersDn: string, groupsDn: string, groups: string[]): string => [
  `dn: ${SUFFIX}\nobjectClass: dcObject\nobjectClass: organization\ndc: tenure\no: Tenure tests\n`,
  `dn: ${usersDn}\nobjectClass: organizationalUnit\nou: people\n`,
  `dn: ${groupsDn}\nobjectClass: organizationalUnit\nou: groups\n`,
  ...groups.map((cn) => `dn: cn=${cn},${groupsDn}\nobjectClass: groupOfNames\ncn: ${cn}\nmember: ${groupsDn}\n`),
].join('\n');

/** Runs a setup tool, turning its failure into an error that carries what it printed. */
const run = (file: string, args: string[], cwd: string): void => {
  try {
    execFileSync(file, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8' });
  } catch (error) {
    const { stderr, stdout } = error as { stderr?: string; stdout?: string };
    throw new Error(`${file} ${args.join(' ')} failed: ${stderr || stdout || (error as Error).message}`);
  }
};

const answers = async (url: string, bindDn: string, password: string): Promise<boolean> => {
  const client = new Client({ url, connectTimeout: 500, timeout: 500 });
  try {
    await client.bind(bindDn, password);
    return true;
  } catch {
    return false;
  } finally {
    await client.unbind().catch(() => undefined);
  }
};

/**
 * Starts slapd on 127.0.0.1 on a free port with `ou=people` and `ou=groups` under the suffix and
 * one groupOfNames per name in `groups`; `stop()` (or this process's exit) ends it and removes its
 * files. A slapd that exits or does not answer within ten seconds fails with its stderr.
 */
export const startSlapd = async (groups: string[]): Promise<Slapd> => {
  if (!existsSync(SLAPD)) throw new Error('slapd is not installed: apt-get install slapd ldap-utils');
  const bad = groups.find((name) => !PLAIN_NAME.test(name));
  if (bad !== undefined) throw new Error(`seeded group name ${JSON.stringify(bad)} is not plain`);
  const dir = mkdtempSync(join(tmpdir(), 'tenure-slapd-'));
  const password = randomBytes(18).toString('base64url');
  const bindDn = `cn=admin,${SUFFIX}`;
  const usersDn = `ou=people,${SUFFIX}`;
  const groupsDn = `ou=groups,${SUFFIX}`;
  try {
    mkdirSync(join(dir, 'data'));
    writeFileSync(join(dir, 'slapd.conf'), slapdConf(dir, bindDn, password), { mode: 0o600 });
    writeFileSync(join(dir, 'seed.ldif'), seedLdif(usersDn, groupsDn, groups));
    run(SLAPADD, ['-f', join(dir, 'slapd.conf'), '-l', join(dir, 'seed.ldif')], dir);
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  const port = await freePort();
  const url = `ldap://127.0.0.1:${port}`;
  // `-d none` keeps slapd in the foreground and prints only what it must (config errors, start, stop).
  const child = spawn(SLAPD, ['-f', join(dir, 'slapd.conf'), '-h', `${url}/`, '-d', 'none'], {
    cwd: dir, stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => { stderr = (stderr + chunk).slice(-8_000); });
  let spawnError: Error | undefined;
  child.once('error', (error) => { spawnError = error; });
  const stop = stopper(child, dir, 'SIGTERM');
  const running = () => child.exitCode === null && child.signalCode === null && !spawnError;
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline && running()) {
    if (await answers(url, bindDn, password)) return { url, bindDn, password, suffix: SUFFIX, usersDn, groupsDn, stop };
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  const why = spawnError ? `could not be started (${spawnError.message})`
    : running() ? 'did not answer within 10 s' : `exited with ${child.exitCode ?? child.signalCode}`;
  await stop();
  throw new Error(`the private slapd on ${url} ${why}; its stderr:\n${stderr.trim() || '(empty)'}`);
};
