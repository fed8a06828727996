/**
 * The names Tenure writes into certificates, KRL specifications and principals files. Each of those
 * formats has characters with a meaning (`,` separates principals in `ssh-keygen -n`, `#` starts a
 * comment in a KRL specification, a newline ends a line everywhere, `*` and `?` are patterns in
 * sshd), so only a conservative set of characters is accepted rather than escaping any of them.
 */
import { TenureError } from '../domain/errors.js';

/** A user name, role or entitlement-derived name: letters, digits and `._@-`, not starting with a sign. */
const PRINCIPAL = /^[A-Za-z0-9_][A-Za-z0-9._@-]{0,63}$/;
/** A grant id (a UUID today) or any similar identifier; `:` is allowed for namespaced ids. */
const KEY_ID = /^[A-Za-z0-9][A-Za-z0-9._:@-]{0,127}$/;
/** sshd accepts at most this many principals in one certificate (SSHKEY_CERT_MAX_PRINCIPALS). */
const MAX_PRINCIPALS = 256;
/** Serials are unsigned 64-bit; zero means "no serial" and cannot be revoked by serial in a KRL. */
const MAX_SERIAL = (1n << 64n) - 1n;

const invalid = (field: string, message: string): TenureError => new TenureError('input.invalid', `${field}: ${message}`, { field });

export const isSafePrincipal = (name: string): boolean => PRINCIPAL.test(name);

/** The principals in their given order without repeats; refuses an empty list and unsafe names. */
export const checkPrincipals = (principals: readonly string[], field = 'principals'): string[] => {
  if (principals.length === 0) throw invalid(field, 'a certificate needs at least one principal');
  const unique = [...new Set(principals)];
  if (unique.length > MAX_PRINCIPALS) throw invalid(field, `at most ${MAX_PRINCIPALS} principals fit in a certificate`);
  const unsafe = unique.find((name) => !isSafePrincipal(name));
  if (unsafe !== undefined) {
    throw invalid(field, `${JSON.stringify(unsafe.slice(0, 80))} is not a safe principal (letters, digits and ._@- only, at most 64, not starting with . @ or -)`);
  }
  return unique;
};

export const checkKeyId = (keyId: string, field = 'keyId'): string => {
  if (!KEY_ID.test(keyId)) throw invalid(field, 'must be a grant id: letters, digits and ._:@- only, at most 128');
  return keyId;
};

export const checkSerial = (serial: bigint | number, field = 'serial'): bigint => {
  if (typeof serial === 'number' && !Number.isSafeInteger(serial)) throw invalid(field, 'must be a whole number');
  const value = BigInt(serial);
  if (value < 1n || value > MAX_SERIAL) throw invalid(field, 'must be between 1 and 2^64-1 (zero cannot be revoked by serial)');
  return value;
};

/**
 * The text of an `AuthorizedPrincipalsFile`, or what an `AuthorizedPrincipalsCommand` prints: one
 * principal per line. An empty list gives empty text, which sshd reads as "nobody may log in".
 */
export const principalsFileContent = (principals: readonly string[]): string => {
  if (principals.length === 0) return '';
  return `${checkPrincipals(principals).join('\n')}\n`;
};
