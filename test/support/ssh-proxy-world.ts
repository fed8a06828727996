import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { DecisionService } from '../../src/decision/service.js';
import { signSshCertificate } from '../../src/operations/sign-ssh-certificate.js';
import { loadSshProxyConfig, type SshProxyConfig } from '../../src/proxy/ssh/config.js';
import { SshProxyServer } from '../../src/proxy/ssh/server.js';
import type { Store } from '../../src/store/database.js';
import { freshStore } from './backends.js';
import { applyPolicyText } from './provisioning-world.js';
import { SSH, SSH_TEST_USER, generateKeyPair, startSshd, type Sshd, type SshdOptions } from './sshd.js';
import { buildWorld, LIFECYCLE_POLICY, type World } from './world.js';

/**
 * Tenure's SSH proxy in front of a real sshd that lets in only the proxy's key (issue 18), the
 * world with a bastion system served through it, and OpenSSH's `ssh` to drive both.
 */
export type KeyPair = ReturnType<typeof generateKeyPair>;
export interface SshProxyKeys { ca: KeyPair; carl: KeyPair; upstream: KeyPair; stranger: KeyPair }
export const LOGIN = `${SSH_TEST_USER}@web1`;

export interface SshProxyWorld {
  dir: string; keys: SshProxyKeys; sshd: Sshd; w: World; decision: DecisionService; proxy: SshProxyServer; errors: Error[];
  /** The bastion's policy; `mfa`: its deploy entitlement requires MFA (a duration: at most that old); `sources`: the addresses it allows (source_cidrs). */
  policy(mfa?: boolean | string, sources?: string[]): string;
  stop(): Promise<void>;
}

export interface SshProxyWorldOptions {
  /** How the host decides which keys an account accepts; default: authorized_keys naming the proxy's key. */
  sshd?: (keys: SshProxyKeys, dir: string) => Omit<SshdOptions, 'trustedCaKeys'>;
  /** proxy.addresses of the policy. */
  addresses?: string[];
  /** Proxy settings over the test defaults. */
  config?: Partial<SshProxyConfig>;
  /** The store to use (the caller closes it); default: a fresh embedded one the world closes. */
  store?: Store;
  /** `forwarding` of the deploy entitlement; the host then allows local forwarding, so only the proxy refuses. */
  forwarding?: string[];
  /** `file_transfer` of the shared ops account (absent: left out, allowed). */
  opsFileTransfer?: boolean;
}

export const startSshProxyWorld = async (options: SshProxyWorldOptions = {}): Promise<SshProxyWorld> => {
  const dir = mkdtempSync(join(tmpdir(), 'tenure-ssh-proxy-'));
  const keys = { ca: generateKeyPair(dir, 'ca'), carl: generateKeyPair(dir, 'carl'), upstream: generateKeyPair(dir, 'upstream'),
    stranger: generateKeyPair(dir, 'stranger') };
  const hostKey = generateKeyPair(dir, 'proxy-host');
  // The host trusts no user CA at all, only the proxy's key for the proxied account.
  const sshd = await startSshd({ trustedCaKeys: [], ...(options.forwarding ? { tcpForwarding: 'local' as const } : {}),
    ...(options.sshd?.(keys, dir) ?? { authorizedKeys: { [SSH_TEST_USER]: [keys.upstream.publicKey] } }) });
  const policy = (mfa: boolean | string = false, sources?: string[]): string => {
    const doc = parse(readFileSync(LIFECYCLE_POLICY, 'utf8')) as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- a YAML document edited in place
    doc.roles.checker = ['bot'];
    doc.systems.bastion = {
      name: 'Bastion hosts', business_owner: 'olivia', technical_owner: 'tom', criticality: 'high',
      connector: { type: 'ssh-ca', ca_key: `file:${keys.ca.privatePath}`, krl_path: join(dir, 'revoked.krl'), max_ttl: '4h',
        proxy: { upstream_key: `file:${keys.upstream.privatePath}`, ...(options.addresses ? { addresses: options.addresses } : {}),
          hosts: { web1: { address: `127.0.0.1:${sshd.port}`, host_key: sshd.hostKey } } } },
      entitlements: { deploy: { name: 'Deploy account', tier: 'standard', target: SSH_TEST_USER,
        ...(mfa || sources ? { conditions: { ...(mfa ? { mfa: true } : {}), ...(typeof mfa === 'string' ? { mfa_max_age: mfa } : {}), ...(sources ? { source_cidrs: sources } : {}) } } : {}),
        ...(options.forwarding ? { forwarding: options.forwarding } : {}) } },
      // The same account on the host, lent to one person at a time: both lead to it, each under its own grant.
      shared_accounts: { ops: { name: 'Operations account', tier: 'standard', max_duration: '4h', target: SSH_TEST_USER,
        ...(options.opsFileTransfer === undefined ? {} : { file_transfer: options.opsFileTransfer }) } },
    };
    return stringify(doc);
  };
  const w = await buildWorld(options.store ?? await freshStore('embedded'));
  await applyPolicyText(w, policy());
  const decision = await DecisionService.start({ store: w.store, clock: w.clock });
  const errors: Error[] = [];
  const proxy = await SshProxyServer.start({
    ctx: { store: w.store, clock: w.clock, actor: { id: undefined, channel: 'system' } }, decision,
    config: { ...loadSshProxyConfig({ TENURE_SSH_PROXY_HOST_KEY: hostKey.privatePath }), handshakeTimeoutMs: 1000, ...options.config },
    host: '127.0.0.1', port: 0, onError: (error) => errors.push(error),
  });
  return {
    dir, keys, sshd, w, decision, proxy, errors, policy,
    stop: async () => {
      await proxy.stop();
      await decision.stop();
      await sshd.stop();
      if (!options.store) await w.store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
};

export const SSH_OPTIONS = ['-F', '/dev/null', '-o', 'BatchMode=yes', '-o', 'StrictHostKeyChecking=no', '-o', 'UserKnownHostsFile=/dev/null',
  '-o', 'GlobalKnownHostsFile=/dev/null', '-o', 'IdentitiesOnly=yes', '-o', 'IdentityAgent=none', '-o', 'PreferredAuthentications=publickey',
  '-o', 'ConnectTimeout=5', '-o', 'LogLevel=ERROR'];

/** `ssh` with a key (and, if given, its certificate) to `port`, running `command`. */
export const ssh = (o: { port: number; key: KeyPair; login: string; command?: string; extra?: string[]; certificate?: string; timeoutMs?: number }) =>
  new Promise<{ ok: boolean; stdout: string; stderr: string }>((resolve) => {
    execFile(SSH, [...SSH_OPTIONS, '-i', o.key.privatePath, ...(o.certificate ? ['-o', `CertificateFile=${o.certificate}`] : []),
      ...(o.extra ?? []), '-p', String(o.port), `${o.login}@127.0.0.1`, ...(o.command ? [o.command] : [])],
    { timeout: o.timeoutMs ?? 20_000, env: { PATH: '/usr/bin:/bin', LC_ALL: 'C' }, encoding: 'utf8' },
    (error, stdout, stderr) => resolve({ ok: error === null, stdout, stderr }));
  });

/** A certificate for carl's key; `mfa`: asked for from a sign-in with MFA (a date: performed then). */
export const certify = async (p: SshProxyWorld, grant: string, mfa: boolean | Date = false): Promise<string> => {
  const carl = await p.w.as('carl');
  const mfaAt = mfa instanceof Date ? { mfaAt: mfa } : {};
  const issued = await signSshCertificate(mfa ? { ...carl, actor: { ...carl.actor, channel: 'web', mfa: true, ...mfaAt } } : carl,
    { grant, publicKey: p.keys.carl.publicKey });
  const path = join(p.dir, `carl-${grant}-${Date.now()}-cert.pub`);
  writeFileSync(path, `${issued.certificate}\n`, { mode: 0o600 });
  return path;
};

/** An interactive `ssh -tt` through the proxy, its terminal output read as it comes. */
export const terminal = (p: SshProxyWorld) => {
  const child = spawn(SSH, [...SSH_OPTIONS, '-tt', '-i', p.keys.carl.privatePath, '-p', String(p.proxy.address().port), `${LOGIN}@127.0.0.1`],
    { env: { PATH: '/usr/bin:/bin', LC_ALL: 'C', TERM: 'xterm' }, stdio: ['pipe', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.setEncoding('utf8').on('data', (t: string) => { output += t; });
  child.stderr.setEncoding('utf8').on('data', (t: string) => { output += t; });
  return {
    exited: new Promise<number | null>((resolve) => child.on('close', resolve)),
    output: () => output,
    type: (text: string) => child.stdin.write(text),
    shown: async (text: string) => { while (!output.includes(text)) await new Promise((resolve) => setTimeout(resolve, 20)); },
  };
};
