/**
 * Reading OpenSSH keys: a user's public key (checked by Tenure's own rules, then parsed by
 * `ssh-keygen -l` so only a key OpenSSH itself reads is signed), fingerprints, and the CA's public
 * key derived from its private key file. The CA private key is only ever named by a path from
 * configuration; its content is read by ssh-keygen, never by Tenure, and never stored.
 */
import { statSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import { TenureError } from '../domain/errors.js';
import { keygenOrRefuse, withPrivateDir, writePrivateFile } from './keygen.js';

/** Key types sshd accepts for users by default; DSA is gone from OpenSSH and certificates are not keys. */
const USER_KEY_TYPES = new Set([
  'ssh-ed25519', 'ecdsa-sha2-nistp256', 'ecdsa-sha2-nistp384', 'ecdsa-sha2-nistp521', 'ssh-rsa',
  'sk-ssh-ed25519@openssh.com', 'sk-ecdsa-sha2-nistp256@openssh.com',
]);
const MIN_RSA_BITS = 2048;
const MAX_KEY_TEXT = 16_384;
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

export interface PublicKey {
  /** `type base64`, the comment dropped: the comment is free text and has no place in a certificate. */
  line: string;
  type: string;
  /** `SHA256:…`, as sshd logs it. */
  fingerprint: string;
  bits: number;
}

/**
 * A user's key that breaks a rule is the caller's mistake (`ssh.public_key_invalid`); a CA key that
 * does is the configuration's (`ssh.ca_key_invalid`), which the caller cannot fix by sending again.
 */
export type KeyRefusal = 'ssh.public_key_invalid' | 'ssh.ca_key_invalid';

const invalid = (field: string, message: string, code: KeyRefusal = 'ssh.public_key_invalid'): TenureError =>
  new TenureError(code, `${field}: ${message}`, { field });

/** Whether the text is a key rather than a path: a path never contains whitespace after trimming. */
const looksLikeKeyText = (text: string): boolean => /\s/.test(text.trim()) || !isAbsolute(text.trim());

/** Tenure's own checks, before ssh-keygen sees anything; no message quotes the text it was given. */
const splitPublicKey = (text: string, field: string, code: KeyRefusal): { type: string; blob: string } => {
  const refuse = (message: string) => invalid(field, message, code);
  if (text.length > MAX_KEY_TEXT) throw refuse('is far too long to be an OpenSSH public key');
  if (/PRIVATE KEY/.test(text)) throw refuse('is a private key; send only the public key (the .pub file), and treat this private key as exposed');
  const trimmed = text.trim();
  if (trimmed === '') throw refuse('is empty; send the one-line OpenSSH public key (the .pub file)');
  if (/[\r\n]/.test(trimmed)) throw refuse('must be exactly one line: one OpenSSH public key');
  const [type = '', blob = ''] = trimmed.split(/\s+/);
  if (type.includes('-cert-v01@openssh.com')) throw refuse('is a certificate; send the public key it was issued for');
  if (!USER_KEY_TYPES.has(type)) {
    throw refuse(`is not an OpenSSH public key of a supported type (${[...USER_KEY_TYPES].join(', ')})`);
  }
  if (!BASE64.test(blob)) throw refuse(`is not an OpenSSH public key: the part after ${type} is not base64`);
  return { type, blob };
};

/** Parses `ssh-keygen -l` output: `256 SHA256:abc… comment (ED25519)`. */
const parseFingerprintLine = (stdout: string): { bits: number; fingerprint: string } => {
  const match = /^(\d+) (SHA256:[A-Za-z0-9+/]+)/.exec(stdout.trim());
  if (!match?.[1] || !match[2]) throw new TenureError('internal', 'ssh-keygen printed a fingerprint Tenure cannot read');
  return { bits: Number(match[1]), fingerprint: match[2] };
};

/** Checks a user's one-line public key with Tenure's rules and with ssh-keygen's own parser. */
export const checkPublicKey = async (text: string, field = 'publicKey', code: KeyRefusal = 'ssh.public_key_invalid'): Promise<PublicKey> => {
  const { type, blob } = splitPublicKey(text, field, code);
  const line = `${type} ${blob}`;
  const { stdout } = await withPrivateDir(async (dir) => {
    const path = join(dir, 'key.pub');
    writePrivateFile(path, `${line}\n`);
    return keygenOrRefuse(['-l', '-E', 'sha256', '-f', path], {
      code, field, message: `${field}: is not a valid OpenSSH public key (its key data does not parse as a ${type} key)`,
    });
  });
  const { bits, fingerprint } = parseFingerprintLine(stdout);
  if (type === 'ssh-rsa' && bits < MIN_RSA_BITS) throw invalid(field, `RSA keys must have at least ${MIN_RSA_BITS} bits; this one has ${bits}`, code);
  return { line, type, fingerprint, bits };
};

/**
 * The CA private key file must be a regular file nobody else may read: a CA key others can read is
 * a key anyone on the machine can sign with. Checked before ssh-keygen opens it.
 */
const caInvalid = (field: string, message: string): TenureError => invalid(field, message, 'ssh.ca_key_invalid');

export const checkCaKeyFile = (caKeyPath: string, field = 'caKeyPath'): void => {
  if (!isAbsolute(caKeyPath)) throw caInvalid(field, 'must be an absolute path to the CA private key file');
  let stats;
  try {
    stats = statSync(caKeyPath);
  } catch (error) {
    throw caInvalid(field, `the CA private key file ${caKeyPath} cannot be read (${(error as NodeJS.ErrnoException).code ?? 'unreadable'})`);
  }
  if (!stats.isFile()) throw caInvalid(field, `${caKeyPath} is not a file`);
  if ((stats.mode & 0o007) !== 0) {
    throw caInvalid(field, `the CA private key file ${caKeyPath} is accessible to other users (mode ${(stats.mode & 0o777).toString(8)}); make it 0600`);
  }
};

/**
 * The CA's public key (`type base64`), derived from the private key file with `ssh-keygen -y`.
 * `-P ''` makes a passphrase-protected key fail instead of prompting: the CA key file is protected
 * by its permissions, and a service cannot type a passphrase.
 */
export const readCaPublicKey = async (caKeyPath: string): Promise<string> => {
  checkCaKeyFile(caKeyPath);
  const { stdout } = await keygenOrRefuse(['-y', '-P', '', '-f', caKeyPath], {
    code: 'ssh.ca_key_invalid', field: 'caKeyPath',
    message: `caKeyPath: ${caKeyPath} is not an unencrypted OpenSSH private key`,
  });
  const [type = '', blob = ''] = stdout.trim().split(/\s+/);
  if (!type || !BASE64.test(blob)) throw new TenureError('internal', 'ssh-keygen -y printed a public key Tenure cannot read');
  return `${type} ${blob}`;
};

/**
 * `SHA256:…` of a public key given as one-line text, or of a key file given by absolute path
 * (a private key file gives its public half's fingerprint, read from the file's public part).
 */
export const fingerprintOf = async (publicKeyOrPath: string): Promise<string> => {
  if (looksLikeKeyText(publicKeyOrPath)) return (await checkPublicKey(publicKeyOrPath)).fingerprint;
  const { stdout } = await keygenOrRefuse(['-l', '-E', 'sha256', '-f', publicKeyOrPath], {
    code: 'ssh.public_key_invalid', field: 'publicKey', message: `publicKey: ${publicKeyOrPath} is not a readable OpenSSH key file`,
  });
  return parseFingerprintLine(stdout).fingerprint;
};
