import { execFile, spawn, spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { buildKrl, principalsFileContent } from '../../src/ssh/certificate-authority.js';
import { freePort, stopper } from './processes.js';

/**
 * A private OpenSSH server for tests: Debian's real `sshd` on 127.0.0.1 and a free port, trusting
 * only the CA keys a test gives it, reading a KRL, accepting certificates and nothing else (no
 * passwords, no authorized_keys), and letting in one dedicated local user.
 *
 * It needs root: sshd separates privileges through /run/sshd and can only switch to another user
 * as root, and logins need a real account. Its files live under /run rather than /tmp because sshd
 * runs an AuthorizedPrincipalsCommand only from a path whose every directory is root-owned and not
 * writable by others, which a sticky world-writable /tmp is not.
 */
export const SSHD = '/usr/sbin/sshd';
export const SSH = '/usr/bin/ssh';
const SSH_KEYGEN = '/usr/bin/ssh-keygen';

/**
 * The account certificate logins use. Created once if missing and then left in place (a second run,
 * or another test process at the same time, finds it): no home, a plain shell, and the password
 * field `*`, which allows no password yet is not a locked account (`!`), which sshd without PAM refuses.
 */
export const SSH_TEST_USER = 'tenure-ssh-test';

export const isRoot = (): boolean => process.getuid?.() === 0;

export type PrincipalsSource =
  /** AuthorizedPrincipalsFile: the principals each local user accepts. */
  | { kind: 'file'; byUser: Record<string, string[]> }
  /** A script written into sshd's directory, run as AuthorizedPrincipalsCommand with `args`. */
  | { kind: 'command'; script: string; args?: string; runAs?: string }
  /** A complete AuthorizedPrincipalsCommand line (absolute program path, then sshd's %-tokens). */
  | { kind: 'command'; commandLine: string; runAs?: string };

export interface SshdOptions {
  trustedCaKeys: string[];
  /** Without one, sshd accepts a certificate whose principals include the login name. */
  principals?: PrincipalsSource;
  /** Public keys each local user accepts (authorized_keys); without, none: certificates only. */
  authorizedKeys?: Record<string, string[]>;
  /** Or a script sshd runs as AuthorizedKeysCommand with `args` (sshd's %-tokens), as root in tests. */
  authorizedKeysCommand?: { script: string; args: string };
  /** AllowTcpForwarding; default no. */
  tcpForwarding?: 'local';
}

export interface Sshd {
  port: number;
  dir: string;
  /** The server's host key as known_hosts has it (`ssh-ed25519 AAAA…`), to pin. */
  hostKey: string;
  /** RevokedKeys; starts as an empty KRL, since sshd refuses every login when it is missing. */
  krlPath: string;
  /** sshd reads TrustedUserCAKeys at each login, so changing it needs no restart (as in a rotation). */
  setTrustedCaKeys: (keys: string[]) => void;
  /** Where the log is now, to look only at what a later login adds. */
  logMark: () => number;
  waitForLog: (pattern: RegExp, since: number, timeoutMs?: number) => Promise<string>;
  stop: () => Promise<void>;
}

export const ensureLoginUser = (): string => {
  if (spawnSync('getent', ['passwd', SSH_TEST_USER]).status === 0) return SSH_TEST_USER;
  const added = spawnSync('/usr/sbin/useradd', [
    '--no-create-home', '--home-dir', '/', '--shell', '/bin/sh', '--password', '*', SSH_TEST_USER,
  ], { encoding: 'utf8' });
  // 9: created meanwhile by another test process.
  if (added.status !== 0 && added.status !== 9) throw new Error(`useradd ${SSH_TEST_USER} failed: ${added.stderr}`);
  return SSH_TEST_USER;
};

/** An unencrypted ed25519 key pair made by ssh-keygen, mode 0600 as ssh demands. */
export const generateKeyPair = (dir: string, name: string): { privatePath: string; publicPath: string; publicKey: string } => {
  const privatePath = join(dir, name);
  const made = spawnSync(SSH_KEYGEN, ['-q', '-t', 'ed25519', '-N', '', '-C', name, '-f', privatePath], { encoding: 'utf8' });
  if (made.status !== 0) throw new Error(`ssh-keygen could not make ${name}: ${made.stderr}`);
  return { privatePath, publicPath: `${privatePath}.pub`, publicKey: readFileSync(`${privatePath}.pub`, 'utf8').trim() };
};

/** Whether something on the port speaks SSH: it sends its `SSH-2.0-…` banner first. */
const answersSsh = (port: number): Promise<boolean> => new Promise((resolve) => {
  const socket = connect({ host: '127.0.0.1', port });
  const done = (ok: boolean) => { socket.destroy(); resolve(ok); };
  socket.setTimeout(1000, () => done(false));
  socket.once('data', (chunk) => done(chunk.toString('latin1').startsWith('SSH-')));
  socket.once('error', () => done(false));
});

/** OpenSSH 9.8 added per-source penalties, which would slow a test whose refused logins all come from 127.0.0.1. */
const hasPerSourcePenalties = (): boolean => {
  const { stderr, stdout } = spawnSync(SSHD, ['-V'], { encoding: 'utf8' });
  const match = /OpenSSH_(\d+)\.(\d+)/.exec(`${stdout}${stderr}`);
  return match !== null && Number(match[1]) * 100 + Number(match[2]) >= 908;
};

const principalsLines = (dir: string, source: PrincipalsSource | undefined): string[] => {
  if (source === undefined) return [];
  if (source.kind === 'file') {
    mkdirSync(join(dir, 'principals'), { mode: 0o755 });
    for (const [user, names] of Object.entries(source.byUser)) writeFileSync(join(dir, 'principals', user), principalsFileContent(names), { mode: 0o644 });
    return [`AuthorizedPrincipalsFile ${join(dir, 'principals')}/%u`];
  }
  let commandLine: string;
  if ('script' in source) {
    const path = join(dir, 'principals-command');
    // Root-owned and not writable by others: sshd refuses to run it otherwise.
    writeFileSync(path, source.script, { mode: 0o755 });
    commandLine = `${path} ${source.args ?? '%u %i'}`;
  } else {
    commandLine = source.commandLine;
  }
  // sshd will not run the command as root unless told to; nobody exists on every Debian system.
  return [`AuthorizedPrincipalsCommand ${commandLine}`, `AuthorizedPrincipalsCommandUser ${source.runAs ?? 'nobody'}`];
};

const authorizedKeysLines = (dir: string, byUser: Record<string, string[]> | undefined, command?: SshdOptions['authorizedKeysCommand']): string[] => {
  if (command) {
    const path = join(dir, 'authorized-keys-command');
    // Root-owned and not writable by others, as sshd requires of the command.
    writeFileSync(path, command.script, { mode: 0o755 });
    return ['AuthorizedKeysFile none', `AuthorizedKeysCommand ${path} ${command.args}`, 'AuthorizedKeysCommandUser root'];
  }
  if (byUser === undefined) return ['AuthorizedKeysFile none'];
  mkdirSync(join(dir, 'authorized_keys'), { mode: 0o755 });
  for (const [user, keys] of Object.entries(byUser)) writeFileSync(join(dir, 'authorized_keys', user), keys.map((k) => `${k}\n`).join(''), { mode: 0o644 });
  return [`AuthorizedKeysFile ${join(dir, 'authorized_keys')}/%u`];
};

const configText = (dir: string, port: number, options: SshdOptions): string => [
  `Port ${port}`,
  'ListenAddress 127.0.0.1',
  `HostKey ${join(dir, 'host_ed25519')}`,
  `PidFile ${join(dir, 'sshd.pid')}`,
  `TrustedUserCAKeys ${join(dir, 'trusted-user-ca-keys')}`,
  `RevokedKeys ${join(dir, 'revoked.krl')}`,
  ...principalsLines(dir, options.principals),
  ...authorizedKeysLines(dir, options.authorizedKeys, options.authorizedKeysCommand),
  'PubkeyAuthentication yes',
  'PasswordAuthentication no',
  'KbdInteractiveAuthentication no',
  'PermitRootLogin no',
  `AllowUsers ${SSH_TEST_USER}`,
  'StrictModes no',
  'UsePAM no',
  'UseDNS no',
  'AllowAgentForwarding no',
  `AllowTcpForwarding ${options.tcpForwarding ?? 'no'}`,
  'X11Forwarding no',
  'PrintMotd no',
  // What a host usually offers, so that sftp and scp (SFTP since OpenSSH 9) work; in-process, no helper binary needed.
  'Subsystem sftp internal-sftp',
  // DEBUG2: sshd says why it refused a certificate (untrusted CA, revoked, expired, wrong principal).
  'LogLevel DEBUG2',
  ...(hasPerSourcePenalties() ? ['PerSourcePenalties no'] : []),
  '',
].join('\n');

const hostKeyOf = (dir: string): string => readFileSync(join(dir, 'host_ed25519.pub'), 'utf8').trim().split(/\s+/).slice(0, 2).join(' ');

/** Starts sshd (`-D` stays in the foreground, `-e` logs to stderr, which the test reads). */
export const startSshd = async (options: SshdOptions): Promise<Sshd> => {
  if (!isRoot()) throw new Error('the private sshd needs root (privilege separation and a real login user)');
  ensureLoginUser();
  mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });
  const dir = mkdtempSync('/run/tenure-sshd-');
  chmodSync(dir, 0o755);
  const made = spawnSync(SSH_KEYGEN, ['-q', '-t', 'ed25519', '-N', '', '-f', join(dir, 'host_ed25519')], { encoding: 'utf8' });
  if (made.status !== 0) throw new Error(`ssh-keygen could not make the host key: ${made.stderr}`);
  const trustedCaKeysPath = join(dir, 'trusted-user-ca-keys');
  // Written beside and renamed, like a real deployment would, so sshd never reads half a file.
  const setTrustedCaKeys = (keys: string[]) => {
    writeFileSync(`${trustedCaKeysPath}.new`, keys.map((key) => `${key}\n`).join(''), { mode: 0o644 });
    renameSync(`${trustedCaKeysPath}.new`, trustedCaKeysPath);
  };
  setTrustedCaKeys(options.trustedCaKeys);
  const krlPath = join(dir, 'revoked.krl');
  await buildKrl({ caPublicKeys: [], revoked: [], outPath: krlPath });
  const port = await freePort();
  const configPath = join(dir, 'sshd_config');
  writeFileSync(configPath, configText(dir, port, options), { mode: 0o644 });

  const child = spawn(SSHD, ['-D', '-e', '-f', configPath], { stdio: ['ignore', 'ignore', 'pipe'], cwd: dir });
  let log = '';
  child.stderr?.setEncoding('utf8').on('data', (text: string) => { log += text; });
  const stop = stopper(child, dir, 'SIGTERM');
  const waitForLog = async (pattern: RegExp, since: number, timeoutMs = 3000): Promise<string> => {
    for (const deadline = Date.now() + timeoutMs; Date.now() < deadline;) {
      if (pattern.test(log.slice(since))) return log.slice(since);
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    throw new Error(`sshd never logged ${pattern}; its log since then:\n${log.slice(since)}`);
  };
  for (let i = 0; i < 100; i += 1) {
    if (child.exitCode !== null) break;
    if (await answersSsh(port)) return { port, dir, hostKey: hostKeyOf(dir), krlPath, setTrustedCaKeys, logMark: () => log.length, waitForLog, stop };
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  await stop();
  throw new Error(`the private sshd on port ${port} did not start:\n${log}`);
};

export interface SshAttempt {
  ok: boolean;
  stderr: string;
}

/** Logs in with a key and its certificate, runs `true`, and says whether that worked. */
export const trySsh = (attempt: {
  port: number; user: string; identityFile: string; certificateFile: string; timeoutMs?: number;
}): Promise<SshAttempt> => new Promise((resolve) => {
  execFile(SSH, [
    '-F', '/dev/null',
    '-o', 'BatchMode=yes', '-o', 'StrictHostKeyChecking=no', '-o', 'UserKnownHostsFile=/dev/null',
    '-o', 'GlobalKnownHostsFile=/dev/null', '-o', 'IdentitiesOnly=yes', '-o', 'IdentityAgent=none',
    '-o', 'PreferredAuthentications=publickey', '-o', 'ConnectTimeout=5', '-o', 'LogLevel=ERROR',
    '-o', `CertificateFile=${attempt.certificateFile}`, '-i', attempt.identityFile,
    '-p', String(attempt.port), `${attempt.user}@127.0.0.1`, 'true',
  ], { timeout: attempt.timeoutMs ?? 10_000, env: { PATH: '/usr/bin:/bin', LC_ALL: 'C' }, encoding: 'utf8' }, (error, _stdout, stderr) => {
    resolve({ ok: error === null, stderr });
  });
});

/** Moves the KRL away and back, to show what sshd does when RevokedKeys cannot be read. */
export const withoutFile = async <T>(path: string, work: () => Promise<T>): Promise<T> => {
  renameSync(path, `${path}.away`);
  try {
    return await work();
  } finally {
    renameSync(`${path}.away`, path);
  }
};
