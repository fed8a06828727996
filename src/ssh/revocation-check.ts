/**
 * The read-back after a revocation: does the KRL file sshd reads really refuse every certificate
 * with this key id? Tenure never keeps the certificates it issued (only their fingerprints), so it
 * signs a throwaway certificate with the same key id and asks `ssh-keygen -Q` about it, which is
 * the same verdict sshd reaches at a login. A CA that is still trusted during a rotation has no
 * private key here to sign with; for those, the KRL's own listing (`ssh-keygen -Q -l`) must show
 * the key id in that CA's section.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fingerprintOf, isRevoked, readCaPublicKey, signUserCertificate } from './certificate-authority.js';
import { keygenOrRefuse, withPrivateDir } from './keygen.js';

/** Never issued by the database sequence (it would take 2^64 - 1 certificates), so no real serial is ever this. */
const PROBE_SERIAL = (1n << 64n) - 1n;
const PROBE_PRINCIPAL = 'tenure-krl-probe';

export interface RevocationCheck {
  krlPath: string;
  /** The current CA's private key: it signs the probe. */
  caKeyPath: string;
  /** The other CAs sshd trusts (`type base64`), checked in the KRL listing. */
  otherCaPublicKeys: readonly string[];
  keyId: string;
}

export interface RevocationVerdict {
  /** True only when certificates with the key id are refused whichever trusted CA signed them. */
  revoked: boolean;
  /** Fingerprints of the trusted CAs whose certificates with the key id the KRL does not refuse. */
  notRevokedFor: string[];
}

/** The key ids the KRL revokes, per CA fingerprint, as `ssh-keygen -Q -l` lists them. */
const keyIdsByCa = async (krlPath: string): Promise<Map<string, Set<string>>> => {
  const { stdout } = await keygenOrRefuse(['-Q', '-l', '-f', krlPath], { code: 'internal', message: `the KRL ${krlPath} cannot be listed` });
  const byCa = new Map<string, Set<string>>();
  let ca: Set<string> | undefined;
  for (const line of stdout.split('\n')) {
    const header = /^# CA key \S+ (SHA256:\S+)/.exec(line);
    if (header?.[1]) {
      ca = byCa.get(header[1]) ?? new Set();
      byCa.set(header[1], ca);
      continue;
    }
    if (line.startsWith('#')) ca = undefined;
    const id = /^id: (.*)$/.exec(line);
    if (id?.[1] !== undefined && ca) ca.add(id[1]);
  }
  return byCa;
};

/** Signs a throwaway key's certificate with the key id and asks the KRL about it. */
const probeCurrentCa = (check: RevocationCheck): Promise<boolean> => withPrivateDir(async (dir) => {
  const keyPath = join(dir, 'probe');
  await keygenOrRefuse(['-q', '-t', 'ed25519', '-N', '', '-C', '', '-f', keyPath], { code: 'internal', message: 'ssh-keygen could not make a probe key' });
  const now = Date.now();
  const probe = await signUserCertificate({
    caKeyPath: check.caKeyPath, publicKey: readFileSync(`${keyPath}.pub`, 'utf8'), keyId: check.keyId, principals: [PROBE_PRINCIPAL],
    // A minute in the past: the probe can log in nowhere, whatever happens to it.
    validAfter: new Date(now - 120_000), validBefore: new Date(now - 60_000), serial: PROBE_SERIAL, extensions: [],
  });
  return isRevoked(check.krlPath, probe.certificate);
});

export const checkKeyIdRevoked = async (check: RevocationCheck): Promise<RevocationVerdict> => {
  const notRevokedFor: string[] = [];
  if (!(await probeCurrentCa(check))) notRevokedFor.push(await fingerprintOf(await readCaPublicKey(check.caKeyPath)));
  if (check.otherCaPublicKeys.length > 0) {
    const listed = await keyIdsByCa(check.krlPath);
    for (const key of check.otherCaPublicKeys) {
      const fingerprint = await fingerprintOf(key);
      if (!listed.get(fingerprint)?.has(check.keyId)) notRevokedFor.push(fingerprint);
    }
  }
  return { revoked: notRevokedFor.length === 0, notRevokedFor };
};
