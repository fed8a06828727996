import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { TenureError } from '../domain/errors.js';

/** The AES-256 key that encrypts subscription secrets at rest; `source` says where it came from, never what it is. */
export interface WebhookKey {
  key: Buffer;
  source: string;
}

export interface WebhookKeySource {
  env: NodeJS.ProcessEnv;
  dataDir: string;
  /** Create `<dataDir>/webhook-key` when nothing is configured: the embedded default only. */
  create: boolean;
}

export const DEFAULT_WEBHOOK_KEY_FILE = 'webhook-key';
const KEY_BYTES = 32;
const IV_BYTES = 12;
const BASE64 = /^[A-Za-z0-9+/_-]+={0,2}$/;

const parseKey = (text: string, where: string): WebhookKey => {
  const trimmed = text.trim();
  const bytes = BASE64.test(trimmed) ? Buffer.from(trimmed, 'base64') : Buffer.alloc(0);
  if (bytes.length !== KEY_BYTES) {
    // The message names where the key came from and its decoded length, never the key itself.
    throw new TenureError('webhook.key_invalid', `${where}: must be ${KEY_BYTES} bytes in base64 (openssl rand -base64 32), found ${bytes.length} bytes`);
  }
  return { key: bytes, source: where };
};

const readKeyFile = (path: string): WebhookKey => {
  let text: string;
  try { text = readFileSync(path, 'utf8'); } catch (error) {
    throw new TenureError('webhook.key_invalid', `${path}: cannot be read (${(error as Error).message})`);
  }
  return parseKey(text, path);
};

/** Exclusive create ('wx'): two processes starting at once end up with one key, the loser reads the winner's. */
const createKeyFile = (path: string, dir: string): WebhookKey => {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const text = `${randomBytes(KEY_BYTES).toString('base64')}\n`;
  try {
    writeFileSync(path, text, { mode: 0o600, flag: 'wx' });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    return readKeyFile(path);
  }
  return parseKey(text, path);
};

/**
 * The webhook key: TENURE_WEBHOOK_KEY (base64), else the file TENURE_WEBHOOK_KEY_FILE names, else
 * `<dataDir>/webhook-key`, created (mode 0600) when `create` is set. Kept out of the database, like
 * the audit signing key: a copy of the database alone does not reveal the subscription secrets.
 * A file the operator names must exist: creating it would hide a missing secret mount.
 */
export const loadWebhookKey = (source: WebhookKeySource): WebhookKey | undefined => {
  const inline = source.env.TENURE_WEBHOOK_KEY;
  if (inline) return parseKey(inline, 'TENURE_WEBHOOK_KEY');
  const named = source.env.TENURE_WEBHOOK_KEY_FILE;
  if (named) {
    if (!existsSync(named)) throw new TenureError('webhook.key_missing', `TENURE_WEBHOOK_KEY_FILE names ${named}, which does not exist`);
    return readKeyFile(named);
  }
  const path = join(source.dataDir, DEFAULT_WEBHOOK_KEY_FILE);
  if (existsSync(path)) return readKeyFile(path);
  return source.create ? createKeyFile(path, source.dataDir) : undefined;
};

/** A new signing secret: 256 random bits, prefixed so that a leaked one is recognisable in scanners and logs. */
export const newWebhookSecret = (): string => `whsec_${randomBytes(32).toString('base64url')}`;

/**
 * AES-256-GCM, stored as `iv.tag.ciphertext` (base64url). The subscription id is bound in as
 * associated data, so a ciphertext copied onto another subscription's row does not decrypt.
 */
export const encryptSecret = (key: WebhookKey, secret: string, subscriptionId: string): string => {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key.key, iv);
  cipher.setAAD(Buffer.from(subscriptionId, 'utf8'));
  const data = Buffer.concat([cipher.update(secret, 'utf8'), cipher.final()]);
  return [iv, cipher.getAuthTag(), data].map((part) => part.toString('base64url')).join('.');
};

/**
 * The associated data a subscription's URL is encrypted under: distinct from its secret's, so the
 * two ciphertexts of one row cannot be swapped for each other.
 */
export const urlContext = (subscriptionId: string): string => `${subscriptionId}#url`;

/** Throws when the key is not the one the secret was encrypted with, or the stored value was altered. */
export const decryptSecret = (key: WebhookKey, stored: string, subscriptionId: string): string => {
  const [iv, tag, data] = stored.split('.').map((part) => Buffer.from(part, 'base64url'));
  if (!iv || !tag || !data || iv.length !== IV_BYTES) throw new Error('the stored secret is not in iv.tag.data form');
  try {
    const decipher = createDecipheriv('aes-256-gcm', key.key, iv);
    decipher.setAAD(Buffer.from(subscriptionId, 'utf8'));
    decipher.setAuthTag(tag);
    return Buffer.concat([decipher.update(data), decipher.final()]).toString('utf8');
  } catch {
    throw new Error(`the subscription secret does not decrypt with the webhook key from ${key.source} (was the key changed?)`);
  }
};
