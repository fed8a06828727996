/**
 * Tenure as an OpenSSH user certificate authority. For an active grant it signs the user's public
 * key with the CA key named by configuration: the key id is the grant id (so revoking the grant's
 * id in the KRL revokes every certificate issued for it), the principals come from the
 * entitlement, and the validity window comes from `certificateWindow` (never past the grant's end).
 * ssh-keygen does the signing; every certificate is read back with `ssh-keygen -L` and compared
 * with what was asked, so a time-zone or parsing mistake fails here rather than at a login.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseCidr } from '../domain/decision-conditions.js';
import { TenureError } from '../domain/errors.js';
import { keygenOrRefuse, withPrivateDir, writePrivateFile } from './keygen.js';
import { checkPublicKey, fingerprintOf, readCaPublicKey } from './keys.js';
import { checkKeyId, checkPrincipals, checkSerial } from './names.js';

export { checkPublicKey, fingerprintOf, readCaPublicKey } from './keys.js';
export { buildKrl, isRevoked, type KrlRevocation } from './krl.js';
export { isSafePrincipal, principalsFileContent } from './names.js';

/** Certificate permissions a caller may grant; by default only a terminal, no forwarding of any kind. */
export const CERTIFICATE_EXTENSIONS = [
  'permit-pty', 'permit-agent-forwarding', 'permit-port-forwarding', 'permit-X11-forwarding', 'permit-user-rc',
] as const;
export type CertificateExtension = (typeof CERTIFICATE_EXTENSIONS)[number];

/**
 * A backstop for callers that compute the window themselves: certificates are meant to live hours
 * (`certificateWindow` gives at most 8h), so anything over a day is a bug, not a policy.
 */
export const MAX_CERTIFICATE_LIFETIME_MS = 24 * 3_600_000;

export interface SignRequest {
  /** Absolute path of the CA private key file, from configuration; mode 0600, no passphrase. */
  caKeyPath: string;
  /** The user's one-line OpenSSH public key. */
  publicKey: string;
  /** The grant id. */
  keyId: string;
  principals: string[];
  validAfter: Date;
  validBefore: Date;
  /** Unique per certificate (a database sequence), 1 to 2^64-1. */
  serial: bigint | number;
  /** Default: `['permit-pty']`. An empty list gives a certificate that may only run commands. */
  extensions?: readonly CertificateExtension[];
  /** The `source-address` critical option: sshd accepts the certificate only from these addresses or CIDRs. Default: none (anywhere). */
  sourceAddresses?: readonly string[];
}

export interface SignedCertificate {
  /** The `…-cert-v01@openssh.com AAAA…` line, as written to `id_ed25519-cert.pub`. */
  certificate: string;
  serial: bigint;
  /** Whole seconds: the certificate format counts seconds, so both ends are rounded down. */
  validAfter: Date;
  validBefore: Date;
  caFingerprint: string;
}

export interface CertificateDetails {
  keyId: string;
  serial: bigint;
  /** null: valid from "always" / until "forever" (Tenure never issues those). */
  validAfter: Date | null;
  validBefore: Date | null;
  principals: string[];
  extensions: string[];
  criticalOptions: string[];
  caFingerprint: string;
}

const invalid = (field: string, message: string): TenureError => new TenureError('input.invalid', `${field}: ${message}`, { field });

const wholeSeconds = (date: Date): Date => new Date(Math.floor(date.getTime() / 1000) * 1000);

/** `YYYYMMDDHHMMSSZ`: the `Z` makes ssh-keygen read the time as UTC whatever the system zone (verified with OpenSSH 9.2). */
export const keygenTime = (date: Date): string => `${date.toISOString().slice(0, 19).replace(/[-:T]/g, '')}Z`;

const checkDate = (value: Date, field: string): Date => {
  if (!(value instanceof Date) || Number.isNaN(value.getTime())) throw invalid(field, 'must be a valid date');
  return wholeSeconds(value);
};

const checkExtensions = (extensions: readonly string[]): string[] => {
  const unknown = extensions.find((name) => !(CERTIFICATE_EXTENSIONS as readonly string[]).includes(name));
  if (unknown !== undefined) throw invalid('extensions', `${JSON.stringify(unknown.slice(0, 60))} is not one of ${CERTIFICATE_EXTENSIONS.join(', ')}`);
  return [...new Set(extensions)];
};

const checkWindow = (request: SignRequest): { validAfter: Date; validBefore: Date } => {
  const validAfter = checkDate(request.validAfter, 'validAfter');
  const validBefore = checkDate(request.validBefore, 'validBefore');
  if (validBefore.getTime() <= validAfter.getTime()) throw invalid('validBefore', 'must be at least a second after validAfter');
  if (validBefore.getTime() - validAfter.getTime() > MAX_CERTIFICATE_LIFETIME_MS) {
    throw invalid('validBefore', 'a certificate may be valid for at most 24 hours');
  }
  return { validAfter, validBefore };
};

/** `ssh-keygen -L` prints one block per certificate; only the fields Tenure sets are read. */
const parseCertificateListing = (stdout: string): CertificateDetails => {
  const field = (name: string): string => {
    const match = new RegExp(`^[ \\t]*${name}: ?(.*)$`, 'm').exec(stdout);
    if (match?.[1] === undefined) throw new TenureError('internal', `ssh-keygen -L printed no ${name}`);
    return match[1].trim();
  };
  const list = (name: string): string[] => {
    const block = new RegExp(`^[ \\t]*${name}: ?(.*)\\n((?:[ \\t]{9,}.*\\n?)*)`, 'm').exec(stdout);
    if (!block) return [];
    return (block[2] ?? '').split('\n').map((line) => line.trim()).filter((line) => line !== '');
  };
  const time = (text: string | undefined): Date | null =>
    text === undefined || text === 'always' || text === 'forever' ? null : new Date(`${text}Z`);
  const valid = /^from (\S+) to (\S+)$/.exec(field('Valid'));
  const ca = /(SHA256:[A-Za-z0-9+/]+)/.exec(field('Signing CA'));
  return {
    keyId: field('Key ID').replace(/^"(.*)"$/, '$1'),
    serial: BigInt(field('Serial')),
    validAfter: time(valid?.[1]),
    validBefore: time(valid?.[2]),
    principals: list('Principals'),
    criticalOptions: list('Critical Options'),
    extensions: list('Extensions'),
    caFingerprint: ca?.[1] ?? '',
  };
};

/** What a certificate says, read by `ssh-keygen -L` (times are UTC: the child runs with TZ=UTC). */
export const inspectCertificate = async (certificate: string): Promise<CertificateDetails> =>
  withPrivateDir(async (dir) => {
    const path = join(dir, 'key-cert.pub');
    writePrivateFile(path, `${certificate.trim()}\n`);
    const { stdout } = await keygenOrRefuse(['-L', '-f', path], {
      code: 'input.invalid', field: 'certificate', message: 'certificate: is not an OpenSSH certificate',
    });
    return parseCertificateListing(stdout);
  });

/** Checked here too, not only in configuration: a wrong entry would make ssh-keygen fail, or sign something other than what was meant. */
const checkSourceAddresses = (addresses: readonly string[]): string[] => {
  const bad = addresses.find((a) => parseCidr(a) === undefined);
  if (bad !== undefined) throw invalid('sourceAddresses', `${JSON.stringify(bad.slice(0, 60))} is not an IP address or CIDR`);
  return [...addresses];
};

/** How `ssh-keygen -L` lists the critical options Tenure sets. */
const criticalOptionsOf = (sourceAddresses: string[]): string[] => (sourceAddresses.length > 0 ? [`source-address ${sourceAddresses.join(',')}`] : []);

const sameMoment = (a: Date | null, b: Date): boolean => a !== null && a.getTime() === b.getTime();

/** Refuses a certificate that does not say exactly what was asked; it is never handed out. */
const confirmReadBack = (details: CertificateDetails, expected: CertificateDetails): void => {
  const mismatches = [
    details.keyId !== expected.keyId && 'key id',
    details.serial !== expected.serial && 'serial',
    !sameMoment(details.validAfter, expected.validAfter as Date) && 'valid after',
    !sameMoment(details.validBefore, expected.validBefore as Date) && 'valid before',
    details.principals.join(',') !== expected.principals.join(',') && 'principals',
    [...details.extensions].sort().join(',') !== [...expected.extensions].sort().join(',') && 'extensions',
    details.criticalOptions.join('\n') !== expected.criticalOptions.join('\n') && 'critical options',
    details.caFingerprint !== expected.caFingerprint && 'signing CA',
  ].filter((name): name is string => typeof name === 'string');
  if (mismatches.length > 0) {
    throw new TenureError('internal', `the signed certificate differs from the request in: ${mismatches.join(', ')}; it was not issued`);
  }
};

/**
 * Signs `publicKey` as a user certificate, refusing before anything is signed when an input breaks
 * a rule (with the field: `ssh.public_key_invalid` for the user's key, `ssh.ca_key_invalid` for the
 * CA key, `input.invalid` for the rest). The window is taken as given (one in the past is allowed,
 * which the tests use), so callers compute it with `certificateWindow`.
 */
export const signUserCertificate = async (request: SignRequest): Promise<SignedCertificate> => {
  const principals = checkPrincipals(request.principals);
  const keyId = checkKeyId(request.keyId);
  const serial = checkSerial(request.serial);
  const extensions = checkExtensions(request.extensions ?? ['permit-pty']);
  const { validAfter, validBefore } = checkWindow(request);
  const criticalOptions = criticalOptionsOf(checkSourceAddresses(request.sourceAddresses ?? []));
  const publicKey = await checkPublicKey(request.publicKey);
  // Deriving the public half first refuses a CA key that is exposed, encrypted or unreadable before -s runs.
  const caFingerprint = await fingerprintOf(await readCaPublicKey(request.caKeyPath));

  const certificate = await withPrivateDir(async (dir) => {
    const keyPath = join(dir, 'key.pub');
    // The certificate takes the key's comment (or, without one, this temp path): make it the grant id.
    writePrivateFile(keyPath, `${publicKey.line} ${keyId}\n`);
    await keygenOrRefuse([
      '-q', '-s', request.caKeyPath, '-I', keyId, '-n', principals.join(','), '-z', serial.toString(),
      '-V', `${keygenTime(validAfter)}:${keygenTime(validBefore)}`,
      // clear drops ssh-keygen's default permissions (every forwarding); only the asked ones come back.
      '-O', 'clear', ...extensions.flatMap((name) => ['-O', name]),
      ...(request.sourceAddresses?.length ? ['-O', `source-address=${request.sourceAddresses.join(',')}`] : []),
      keyPath,
    ], { code: 'internal', message: 'ssh-keygen could not sign the certificate' });
    return readFileSync(join(dir, 'key-cert.pub'), 'utf8').trim();
  });

  confirmReadBack(await inspectCertificate(certificate), {
    keyId, serial, validAfter, validBefore, principals, extensions, criticalOptions, caFingerprint,
  });
  return { certificate, serial, validAfter, validBefore, caFingerprint };
};
