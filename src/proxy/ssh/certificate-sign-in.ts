/**
 * Signing in with an OpenSSH user certificate through ssh2, which cannot do it on its own.
 *
 * ssh2 1.17 offers a key as a USERAUTH_REQUEST naming one algorithm, and writes that same name
 * again as the type inside the signature (Protocol.js, `authPK`). For a certificate those differ
 * (PROTOCOL.certkeys): the request names `ssh-ed25519-cert-v01@openssh.com` and carries the
 * certificate, but the signature is the underlying key's, named `ssh-ed25519` (`rsa-sha2-256` for
 * RSA), and sshd refuses any other name (`sshkey_check_sigtype`). Neither a custom key object nor
 * ssh2's agent option helps: both end in the same `authPK`.
 *
 * So, for one connection only, its protocol's `authPK` is replaced by one that writes the request
 * as OpenSSH does, with ssh2's own packet framing and the signature from ssh2's own signing
 * callback. This is done here at run time rather than by patching node_modules (patch-package),
 * because production installs skip install scripts (`npm ci --ignore-scripts` in scripts/image.sh)
 * and a package installed from the tarball cannot patch a hoisted ssh2. ssh2 is pinned exactly in
 * package.json; the internals used are checked below, so a changed ssh2 fails the sign-in loudly
 * (and test/ssh-proxy-upstream-ca.test.ts against a real sshd) rather than sending something else.
 */
import { createRequire } from 'node:module';
import type ssh2 from 'ssh2';

type Sign = (data: Buffer, done: (signature: Buffer) => void) => void;

/** The parts of ssh2's Protocol this relies on (node_modules/ssh2/lib/protocol/Protocol.js). */
interface Protocol {
  authPK: (username: string, key: unknown, keyAlgo?: string | Sign, sign?: Sign) => void;
  _kex: { sessionID: Buffer };
  _authsQueue: string[];
  _packetRW: { write: { allocStart: number; alloc: (length: number) => Buffer; finalize: (packet: Buffer) => Buffer } };
}

const protocolUtils = createRequire(import.meta.url)('ssh2/lib/protocol/utils.js') as {
  sendPacket: (protocol: Protocol, packet: Buffer) => void;
  /** ECDSA signatures come from OpenSSL as DER and go on the wire as two mpints. */
  convertSignature: (signature: Buffer, type: string) => Buffer | false;
};

const USERAUTH_REQUEST = 50;
const CERT_SUFFIX = '-cert-v01@openssh.com';

const sshString = (value: string | Buffer): Buffer => {
  const bytes = typeof value === 'string' ? Buffer.from(value, 'utf8') : value;
  const length = Buffer.alloc(4);
  length.writeUInt32BE(bytes.length);
  return Buffer.concat([length, bytes]);
};

/** Sends one SSH message the way ssh2 sends its own (framing, MAC, encryption), awaiting a USERAUTH answer. */
const sendAuthRequest = (protocol: Protocol, payload: Buffer): void => {
  const packet = protocol._packetRW.write.alloc(payload.length);
  payload.copy(packet, protocol._packetRW.write.allocStart);
  protocol._authsQueue.push('publickey');
  protocolUtils.sendPacket(protocol, protocol._packetRW.write.finalize(packet));
};

/**
 * Makes `client` (after `connect`, before it signs in) offer `certificate` (a `…-cert-v01@openssh.com
 * AAAA…` line) in place of the public half of the `privateKey` it was given, signing with that key.
 */
export const signInWithCertificate = (client: ssh2.Client, certificate: string): void => {
  const protocol = (client as unknown as { _protocol?: Partial<Protocol> })._protocol;
  if (typeof protocol?.authPK !== 'function' || typeof protocolUtils.sendPacket !== 'function'
    || typeof protocolUtils.convertSignature !== 'function') {
    throw new Error('this ssh2 is not the one Tenure signs in with certificates through (1.17); see src/proxy/ssh/certificate-sign-in.ts');
  }
  const [certType = '', base64 = ''] = certificate.trim().split(/\s+/);
  if (!certType.endsWith(CERT_SUFFIX)) throw new Error('the upstream certificate is not an OpenSSH certificate line');
  const blob = Buffer.from(base64, 'base64');
  const ready = protocol as Protocol;
  ready.authPK = (username, _key, keyAlgoOrSign, maybeSign) => {
    const sign = typeof keyAlgoOrSign === 'function' ? keyAlgoOrSign : maybeSign;
    // ssh2 names the signature algorithm only for RSA (rsa-sha2-256 or -512, as the server allows); other keys sign as their own type.
    const signatureType = typeof keyAlgoOrSign === 'string' ? keyAlgoOrSign : certType.slice(0, -CERT_SUFFIX.length);
    const request = Buffer.concat([Buffer.from([USERAUTH_REQUEST]), sshString(username), sshString('ssh-connection'), sshString('publickey'),
      Buffer.from([sign ? 1 : 0]), sshString(`${signatureType}${CERT_SUFFIX}`), sshString(blob)]);
    if (!sign) { sendAuthRequest(ready, request); return; }
    sign(Buffer.concat([sshString(ready._kex.sessionID), request]), (signature) => {
      const converted = protocolUtils.convertSignature(signature, signatureType);
      if (converted === false) throw new Error('ssh2 could not convert the upstream key\'s signature');
      sendAuthRequest(ready, Buffer.concat([request, sshString(Buffer.concat([sshString(signatureType), sshString(converted)]))]));
    });
  };
};
