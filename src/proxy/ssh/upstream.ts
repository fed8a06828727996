/**
 * The proxy's own sign-in to the host: as the grant's account, with the key only the proxy holds
 * (the host authorises it for proxied accounts; it trusts no certificate a person holds), or with
 * that key and a `certificate` the upstream CA minted for this session (upstream-certificate.ts),
 * to the host key the policy pins. A host presenting any other key is refused: a person's session
 * is never relayed to an impostor. The TCP connection is opened first, by the proxy itself, so that
 * a minted certificate can name the address it comes from (TENURE_SSH_PROXY_SOURCE_ADDRESSES unset).
 */
import { readFileSync } from 'node:fs';
import { timingSafeEqual } from 'node:crypto';
import { connect, type Socket } from 'node:net';
import ssh2 from 'ssh2';
import type { SshProxyLogin } from '../../operations/resolve-ssh-proxy-login.js';
import { signInWithCertificate } from './certificate-sign-in.js';

const { Client } = ssh2;

/** The key blob of a known_hosts-style `type base64` line. */
const hostKeyBlob = (line: string): Buffer => Buffer.from(line.trim().split(/\s+/)[1] ?? '', 'base64');

/** The TCP connection to the host, opened before SSH starts so that its local address is known. */
const connectTcp = (host: string, port: number, timeoutMs: number): Promise<Socket> => new Promise((resolve, reject) => {
  const socket = connect({ host, port, noDelay: true });
  const timer = setTimeout(() => { socket.destroy(); reject(new Error(`${host}:${port} did not accept a connection within ${timeoutMs} ms`)); }, timeoutMs);
  socket.once('connect', () => { clearTimeout(timer); socket.removeAllListeners('error'); resolve(socket); });
  socket.once('error', (error) => { clearTimeout(timer); reject(error); });
});

/**
 * `certify`, when given, mints the certificate for this connection from the address the host sees
 * it come from (the socket's local address): it runs once the TCP connection is open, before SSH
 * starts, so that the certificate can carry a `source-address` for exactly this connection.
 */
export const openUpstream = async (login: SshProxyLogin, timeoutMs: number, certify?: (localAddress: string) => Promise<string>)
  : Promise<ssh2.Client> => {
  // One deadline for the connection, the minting and the sign-in, as ssh2's readyTimeout alone was.
  const deadline = Date.now() + timeoutMs;
  const socket = await connectTcp(login.host.address, login.host.port, timeoutMs);
  let certificate: string | undefined;
  try {
    certificate = certify ? await certify(socket.localAddress ?? '') : undefined;
  } catch (error) {
    socket.destroy();
    throw error;
  }
  return new Promise((resolve, reject) => {
    const client = new Client();
    const pinned = hostKeyBlob(login.host.hostKey);
    let hostKeyRefused = false;
    client.once('ready', () => resolve(client));
    client.once('error', (error) => reject(hostKeyRefused ? new Error(`${login.host.name} presented a host key other than the policy's`) : error));
    client.connect({
      sock: socket, username: login.account, privateKey: readFileSync(login.upstreamKeyPath), readyTimeout: Math.max(1, deadline - Date.now()),
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
};
