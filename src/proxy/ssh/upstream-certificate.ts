/**
 * The certificate the proxy signs in to a host with, when an upstream CA is configured
 * (TENURE_SSH_PROXY_UPSTREAM_CA_KEY): minted for one session, for the proxy's own upstream key,
 * signed by the upstream CA. The host's sshd trusts that CA and no other (docs/sessions.md), so
 * only the proxy can sign in, and sshd's log names the person and the session by the key ID.
 * Signed the way `tenure ssh sign` signs people's keys (ssh/certificate-authority.ts).
 */
import { readFileSync } from 'node:fs';
import ssh2 from 'ssh2';
import { nextCertificateSerial } from '../../operations/sign-ssh-certificate.js';
import type { SshProxyLogin } from '../../operations/resolve-ssh-proxy-login.js';
import { signUserCertificate, type CertificateExtension } from '../../ssh/certificate-authority.js';
import type { Store } from '../../store/database.js';

/**
 * Only the sign-in needs the certificate (sshd checks it once, at authentication), so it is valid
 * for a few minutes around now: a minute back for a host clock a little behind the proxy's, two
 * ahead for a slow sign-in (TENURE_SSH_PROXY_UPSTREAM_TIMEOUT_MS is 10 s by default).
 */
export const UPSTREAM_CERTIFICATE_BEFORE_MS = 60_000;
export const UPSTREAM_CERTIFICATE_AFTER_MS = 120_000;

/** sshd logs it at every sign-in: `ID tenure:carl:session:<id> (serial 42) CA …`. */
export const upstreamKeyId = (handle: string, sessionId: string): string => `tenure:${handle}:session:${sessionId}`;

/** The upstream key's public half as a one-line OpenSSH public key, read by ssh2 as it reads the key to sign in. */
const publicKeyLine = (privateKeyPath: string): string => {
  const key = ssh2.utils.parseKey(readFileSync(privateKeyPath));
  const parsed = Array.isArray(key) ? key[0] : key;
  if (!parsed || parsed instanceof Error) throw new Error(`the upstream key ${privateKeyPath} is not a private key ssh2 reads`);
  return `${parsed.type} ${parsed.getPublicSSH().toString('base64')}`;
};

/**
 * A certificate for `login.upstreamKeyPath` with the account as its only principal, usable only from
 * `sourceAddresses` (the proxy's own: a copy taken from the proxy's memory opens nothing from
 * anywhere else, even within its minutes; empty for none, which the proxy never mints). A terminal
 * needs `permit-pty`; `permit-port-forwarding` is added only when the grant's entitlement lists
 * destinations, since sshd refuses a certificate's forwarding without it. `now` is the wall clock,
 * not Tenure's: the host checks the window against its own.
 */
export const mintUpstreamCertificate = async (
  store: Store, caKeyPath: string, login: SshProxyLogin, sessionId: string, sourceAddresses: readonly string[], now: Date = new Date(),
): Promise<string> => {
  const extensions: CertificateExtension[] = login.forwarding.length > 0 ? ['permit-pty', 'permit-port-forwarding'] : ['permit-pty'];
  const signed = await signUserCertificate({
    caKeyPath, publicKey: publicKeyLine(login.upstreamKeyPath), keyId: upstreamKeyId(login.handle, sessionId), principals: [login.account],
    validAfter: new Date(now.getTime() - UPSTREAM_CERTIFICATE_BEFORE_MS), validBefore: new Date(now.getTime() + UPSTREAM_CERTIFICATE_AFTER_MS),
    serial: await nextCertificateSerial(store.db), extensions, sourceAddresses,
  });
  return signed.certificate;
};
