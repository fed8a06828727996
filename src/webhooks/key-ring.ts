import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { TenureError } from '../domain/errors.js';
import { KEY_BYTES, keyRing, webhookKey, type WebhookKey, type WebhookKeyRing } from './crypto.js';

export interface WebhookKeySource {
  env: NodeJS.ProcessEnv;
  dataDir: string;
  /** Create `<dataDir>/webhook-key` when nothing is configured: the embedded default only. */
  create: boolean;
}

export const DEFAULT_WEBHOOK_KEY_FILE = 'webhook-key';
const BASE64 = /^[A-Za-z0-9+/_-]+={0,2}$/;

const parseKey = (text: string, where: string): WebhookKey => {
  const bytes = BASE64.test(text) ? Buffer.from(text, 'base64') : Buffer.alloc(0);
  if (bytes.length !== KEY_BYTES) {
    // The message names where the key came from and its decoded length, never the key itself.
    throw new TenureError('webhook.key_invalid', `${where}: must be ${KEY_BYTES} bytes in base64 (openssl rand -base64 32), found ${bytes.length} bytes`);
  }
  return webhookKey(bytes, where);
};

/**
 * One or more keys, separated by newlines or commas (commas so that an environment variable can
 * hold several); lines starting with # are comments. The first key is current. Each key is named by
 * its source and position ("TENURE_WEBHOOK_KEY key 2") in errors, so a bad one can be found without
 * printing any.
 */
const parseKeys = (text: string, where: string): WebhookKeyRing => {
  const entries = text.split('\n').filter((line) => !line.trim().startsWith('#'))
    .flatMap((line) => line.split(',')).map((entry) => entry.trim()).filter(Boolean);
  if (entries.length === 0) throw new TenureError('webhook.key_invalid', `${where}: holds no key`);
  const named = (i: number) => (entries.length === 1 ? where : `${where} key ${i + 1}`);
  return keyRing(entries.map((entry, i) => parseKey(entry, named(i))));
};

const readKeyFile = (path: string): WebhookKeyRing => {
  let text: string;
  try { text = readFileSync(path, 'utf8'); } catch (error) {
    throw new TenureError('webhook.key_invalid', `${path}: cannot be read (${(error as Error).message})`);
  }
  return parseKeys(text, path);
};

/** Exclusive create ('wx'): two processes starting at once end up with one key, the loser reads the winner's. */
const createKeyFile = (path: string, dir: string): WebhookKeyRing => {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const text = `${randomBytes(KEY_BYTES).toString('base64')}\n`;
  try {
    writeFileSync(path, text, { mode: 0o600, flag: 'wx' });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    return readKeyFile(path);
  }
  return parseKeys(text, path);
};

/**
 * The webhook key ring: TENURE_WEBHOOK_KEY (base64), else the file TENURE_WEBHOOK_KEY_FILE names,
 * else `<dataDir>/webhook-key`, created (mode 0600) with one key when `create` is set. Each holds one
 * key or several (see parseKeys): the first is current, the others only decrypt. One source for the
 * whole ring, so there is no question which of two settings wins. Kept out of the database, like the
 * audit signing key: a copy of the database alone does not reveal the subscription secrets. A file
 * the operator names must exist: creating it would hide a missing secret mount.
 */
export const loadWebhookKeyRing = (source: WebhookKeySource): WebhookKeyRing | undefined => {
  const inline = source.env.TENURE_WEBHOOK_KEY;
  if (inline) return parseKeys(inline, 'TENURE_WEBHOOK_KEY');
  const named = source.env.TENURE_WEBHOOK_KEY_FILE;
  if (named) {
    if (!existsSync(named)) throw new TenureError('webhook.key_missing', `TENURE_WEBHOOK_KEY_FILE names ${named}, which does not exist`);
    return readKeyFile(named);
  }
  const path = join(source.dataDir, DEFAULT_WEBHOOK_KEY_FILE);
  if (existsSync(path)) return readKeyFile(path);
  return source.create ? createKeyFile(path, source.dataDir) : undefined;
};
