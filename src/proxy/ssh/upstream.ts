/**
 * The proxy's own sign-in to the host: as the grant's account, with the key only the proxy holds
 * (the host authorises it for proxied accounts; it trusts no certificate a person holds), or with
 * that key and a `certificate` the upstream CA minted for this session (upstream-certificate.ts),
 * to the host key the policy pins. A host presenting any other key is refused: a person's session
 * is never relayed to an impostor.
 */
import { readFileSync } from 'node:fs';
import { timingSafeEqual } from 'node:crypto';
import ssh2 from 'ssh2';
import type { SshProxyLogin } from '../../operations/resolve-ssh-proxy-login.js';
import { signInWithCertificate } from './certificate-sign-in.js';

const { Client } = ssh2;

/** The key blob of a known_hosts-style `type base64` line. */
const hostKeyBlob = (line: string): Buffer => Buffer.from(line.trim().split(/\s+/)[1] ?? '', 'base64');

export const openUpstream = (login: SshProxyLogin, timeoutMs: number, certificate?: string): Promise<ssh2.Client> => new Promise((resolve, reject) => {
  const client = new Client();
  const pinned = hostKeyBlob(login.host.hostKey);
  let hostKeyRefused = false;
  client.once('ready', () => resolve(client));
  client.once('error', (error) => reject(hostKeyRefused ? new Error(`${login.host.name} presented a host key other than the policy's`) : error));
  client.connect({
    host: login.host.address, port: login.host.port, username: login.account,
    privateKey: readFileSync(login.upstreamKeyPath), readyTimeout: timeoutMs,
    hostVerifier: (key: Buffer) => {
      const ok = key.length === pinned.length && timingSafeEqual(key, pinned);
      if (!ok) hostKeyRefused = true;
      return ok;
    },
  });
  if (certificate === undefined) return;
  try {
    signInWithCertificate(client, certificate);
  } catch (error) {
    client.end();
    reject(error as Error);
  }
});
