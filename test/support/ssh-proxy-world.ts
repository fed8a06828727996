import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { DecisionService } from '../../src/decision/service.js';
import { signSshCertificate } from '../../src/operations/sign-ssh-certificate.js';
import { loadSshProxyConfig } from '../../src/proxy/ssh/config.js';
import { SshProxyServer } from '../../src/proxy/ssh/server.js';
import type { Store } from '../../src/store/database.js';
import { grantThrough } from './flows.js';
import { applyPolicyText } from './provisioning-world.js';
import { SSH, SSH_TEST_USER, generateKeyPair, startSshd, type Sshd } from './sshd.js';
import { buildWorld, LIFECYCLE_POLICY, type World } from './world.js';

/**
 * The SSH proxy's world outside the end-to-end test (the benchmark): a real sshd that authorises
 * only the proxy's upstream key, Tenure's ssh-ca system `bastion` with host `web1` served through
 * the proxy, carl granted `bastion/deploy` and holding a certificate for it. Needs root (sshd.ts).
 */
export type KeyPair = ReturnType<typeof generateKeyPair>;

export const SSH_PROXY_LOGIN = `${SSH_TEST_USER}@web1`;

export const SSH_CLIENT_OPTIONS = ['-F', '/dev/null', '-o', 'BatchMode=yes', '-o', 'StrictHostKeyChecking=no', '-o', 'UserKnownHostsFile=/dev/null',
  '-o', 'GlobalKnownHostsFile=/dev/null', '-o', 'IdentitiesOnly=yes', '-o', 'IdentityAgent=none', '-o', 'PreferredAuthentications=publickey',
  '-o', 'ConnectTimeout=5', '-o', 'LogLevel=ERROR'];

const policyWith = (dir: string, keys: { ca: KeyPair; upstream: KeyPair }, sshd: Sshd): string => {
  const doc = parse(readFileSync(LIFECYCLE_POLICY, 'utf8')) as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- a YAML document edited in place
  doc.systems.bastion = {
    name: 'Bastion hosts', business_owner: 'olivia', technical_owner: 'tom', criticality: 'high',
    connector: { type: 'ssh-ca', ca_key: `file:${keys.ca.privatePath}`, krl_path: join(dir, 'revoked.krl'), max_ttl: '4h',
      proxy: { upstream_key: `file:${keys.upstream.privatePath}`, hosts: { web1: { address: `127.0.0.1:${sshd.port}`, host_key: sshd.hostKey } } } },
    entitlements: { deploy: { name: 'Deploy account', tier: 'standard', target: SSH_TEST_USER } },
  };
  return stringify(doc);
};

export interface SshProxyWorld {
  w: World; sshd: Sshd; proxy: SshProxyServer; keys: { carl: KeyPair; upstream: KeyPair };
  /** `ssh` arguments (before the remote command) straight to sshd with the upstream key, as the proxy signs in. */
  directArgs: string[];
  /** `ssh` arguments through the proxy with carl's key and certificate. */
  proxiedArgs: string[];
  errors: Error[];
  stop(): Promise<void>;
}

/** sshd starts first, so the caller can pin itself afterwards without sshd inheriting that. */
export const startSshProxyWorld = async (store: Store): Promise<SshProxyWorld> => {
  const dir = mkdtempSync(join(tmpdir(), 'tenure-ssh-proxy-'));
  const keys = { ca: generateKeyPair(dir, 'ca'), carl: generateKeyPair(dir, 'carl'), upstream: generateKeyPair(dir, 'upstream') };
  const hostKey = generateKeyPair(dir, 'proxy-host');
  const sshd = await startSshd({ trustedCaKeys: [], authorizedKeys: { [SSH_TEST_USER]: [keys.upstream.publicKey] } });
  const w = await buildWorld(store);
  await applyPolicyText(w, policyWith(dir, keys, sshd));
  const decision = await DecisionService.start({ store: w.store, clock: w.clock });
  const errors: Error[] = [];
  const proxy = await SshProxyServer.start({
    ctx: { store: w.store, clock: w.clock, actor: { id: undefined, channel: 'system' } }, decision,
    config: loadSshProxyConfig({ TENURE_SSH_PROXY_HOST_KEY: hostKey.privatePath }), host: '127.0.0.1', port: 0, onError: (e) => errors.push(e),
  });
  const grant = await grantThrough(w, 'carl', { entitlement: 'bastion/deploy', justification: 'benchmark', duration: '1d' }, ['sam', 'olivia', 'selma']);
  const issued = await signSshCertificate(await w.as('carl'), { grant, publicKey: keys.carl.publicKey });
  const certificate = join(dir, 'carl-cert.pub');
  writeFileSync(certificate, `${issued.certificate}\n`, { mode: 0o600 });
  return {
    w, sshd, proxy, keys, errors,
    directArgs: [SSH, ...SSH_CLIENT_OPTIONS, '-i', keys.upstream.privatePath, '-p', String(sshd.port), `${SSH_TEST_USER}@127.0.0.1`],
    proxiedArgs: [SSH, ...SSH_CLIENT_OPTIONS, '-i', keys.carl.privatePath, '-o', `CertificateFile=${certificate}`,
      '-p', String(proxy.address().port), `${SSH_PROXY_LOGIN}@127.0.0.1`],
    stop: async () => {
      await proxy.stop();
      await decision.stop();
      await sshd.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
};
