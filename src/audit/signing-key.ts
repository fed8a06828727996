import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { TenureError } from '../domain/errors.js';

/** The checkpoint signing key; `privateKey` is absent when only the public half is configured (a verifier). */
export interface SigningKey {
  privateKey?: KeyObject;
  publicKey: KeyObject;
  keyId: string;
}

/** Public keys that may have signed checkpoints, by key id: the current key and any rotated ones. */
export type TrustedKeys = ReadonlyMap<string, KeyObject>;

export interface KeySource {
  env: NodeJS.ProcessEnv;
  dataDir: string;
}

export const DEFAULT_KEY_FILE = 'audit-signing-key.pem';

const PEM_BLOCK = /-----BEGIN ([A-Z ]+)-----[\s\S]+?-----END \1-----/g;

/** Key ids are derived, not chosen, so a checkpoint's key id cannot be made to point at another key. */
export const keyIdOf = (publicKey: KeyObject): string =>
  createHash('sha256').update(publicKey.export({ type: 'spki', format: 'der' })).digest('hex').slice(0, 16);

export const publicKeyPem = (key: SigningKey): string => key.publicKey.export({ type: 'spki', format: 'pem' }).toString();

const invalid = (where: string, why: string): TenureError =>
  new TenureError('audit.signing_key_invalid', `${where}: ${why}`);

const requireEd25519 = (key: KeyObject, where: string): KeyObject => {
  if (key.asymmetricKeyType !== 'ed25519') throw invalid(where, `is a ${key.asymmetricKeyType ?? 'symmetric'} key, not Ed25519`);
  return key;
};

/** Environment variables cannot always hold newlines, so `\n` escapes are accepted there. */
const unescapePem = (text: string): string => (text.includes('\\n') ? text.replace(/\\n/g, '\n') : text);

/** A private key PEM gives a signer; a public key PEM alone gives a verifier (no privateKey). */
const parseKey = (pem: string, where: string): SigningKey => {
  const text = unescapePem(pem).trim();
  if (/-----BEGIN (ED25519 |ENCRYPTED )?PRIVATE KEY-----/.test(text)) {
    let privateKey: KeyObject;
    try { privateKey = createPrivateKey(text); } catch (error) { throw invalid(where, `not a readable private key (${(error as Error).message})`); }
    requireEd25519(privateKey, where);
    const publicKey = createPublicKey(privateKey);
    return { privateKey, publicKey, keyId: keyIdOf(publicKey) };
  }
  let publicKey: KeyObject;
  try { publicKey = createPublicKey(text); } catch (error) { throw invalid(where, `not a readable PEM key (${(error as Error).message})`); }
  requireEd25519(publicKey, where);
  return { publicKey, keyId: keyIdOf(publicKey) };
};

const readKeyFile = (path: string, where: string): SigningKey => {
  try {
    return parseKey(readFileSync(path, 'utf8'), where);
  } catch (error) {
    if (error instanceof TenureError) throw error;
    throw invalid(where, `cannot be read (${(error as Error).message})`);
  }
};

/**
 * Creates the key file exclusively ('wx'): two processes starting at once cannot each write a key
 * and sign with different ones; the loser reads the winner's key instead.
 */
const createKeyFile = (path: string, dir: string): SigningKey => {
  const { privateKey } = generateKeyPairSync('ed25519');
  const pem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  try {
    writeFileSync(path, pem, { mode: 0o600, flag: 'wx' });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    return readKeyFile(path, path);
  }
  const publicKey = createPublicKey(privateKey);
  return { privateKey, publicKey, keyId: keyIdOf(publicKey) };
};

/**
 * The checkpoint signing key: TENURE_AUDIT_SIGNING_KEY (PEM), else the file TENURE_AUDIT_KEY_FILE
 * names, else `<dataDir>/audit-signing-key.pem`, created (mode 0600) when `create` is set. It is
 * never stored in the database: whoever can rewrite the database must not also hold the key.
 * A file the operator names explicitly must exist: creating it would hide a missing secret mount.
 */
export const loadSigningKey = (source: KeySource & { create: boolean }): SigningKey | undefined => {
  const inline = source.env.TENURE_AUDIT_SIGNING_KEY;
  if (inline) return parseKey(inline, 'TENURE_AUDIT_SIGNING_KEY');
  const named = source.env.TENURE_AUDIT_KEY_FILE;
  if (named) {
    if (!existsSync(named)) throw new TenureError('audit.signing_key_missing', `TENURE_AUDIT_KEY_FILE names ${named}, which does not exist`);
    return readKeyFile(named, named);
  }
  const path = join(source.dataDir, DEFAULT_KEY_FILE);
  if (existsSync(path)) return readKeyFile(path, path);
  return source.create ? createKeyFile(path, source.dataDir) : undefined;
};

/** Every public key in a PEM bundle; private keys in it are reduced to their public half. */
export const parsePublicKeys = (pemBundle: string, where: string): KeyObject[] =>
  [...pemBundle.matchAll(PEM_BLOCK)].map((match, i) => parseKey(match[0], `${where} (key ${i + 1})`).publicKey);

export const trustedKeysFrom = (keys: Iterable<KeyObject>): TrustedKeys =>
  new Map([...keys].map((key) => [keyIdOf(key), key] as const));

/**
 * Keys that verify checkpoints: the current signing key's public half plus the PEM public keys in
 * TENURE_AUDIT_TRUSTED_KEYS_FILE, so checkpoints signed before a key rotation still verify.
 */
export const loadTrustedKeys = (source: KeySource): TrustedKeys => {
  const keys: KeyObject[] = [];
  const current = loadSigningKey({ ...source, create: false });
  if (current) keys.push(current.publicKey);
  const bundle = source.env.TENURE_AUDIT_TRUSTED_KEYS_FILE;
  if (bundle) {
    let text: string;
    try { text = readFileSync(bundle, 'utf8'); } catch (error) { throw invalid(bundle, `cannot be read (${(error as Error).message})`); }
    const found = parsePublicKeys(text, bundle);
    if (found.length === 0) throw invalid(bundle, 'holds no PEM keys');
    keys.push(...found);
  }
  return trustedKeysFrom(keys);
};
