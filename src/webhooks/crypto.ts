import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { TenureError } from '../domain/errors.js';

/**
 * One AES-256 key that encrypts subscription secrets and URLs at rest. `kid` is derived from the
 * key (see keyIdOf); `source` says where it came from, never what it is.
 */
export interface WebhookKey {
  kid: string;
  key: Buffer;
  source: string;
}

/**
 * The webhook key ring: `current` encrypts every new value, every key in `keys` (current included)
 * decrypts. Rotation adds a new current key, re-encrypts (`tenure webhook rekey`), then drops the old.
 */
export interface WebhookKeyRing {
  current: WebhookKey;
  keys: ReadonlyMap<string, WebhookKey>;
}

export const KEY_BYTES = 32;
const IV_BYTES = 12;
const FORMAT = 'v2';

/**
 * A key's id: the first 8 bytes of a SHA-256 of the key (domain-separated), base64url. Derived
 * rather than named by the operator, so it cannot be wrong (one name on two keys, two names on one
 * key) and every process computes the same id from the same key. 64 bits of a hash reveal nothing
 * usable about a 256-bit random key.
 */
export const keyIdOf = (key: Buffer): string =>
  createHash('sha256').update('tenure webhook key id\0').update(key).digest().subarray(0, 8).toString('base64url');

export const webhookKey = (key: Buffer, source: string): WebhookKey => ({ kid: keyIdOf(key), key, source });

/** The first key is current. The same key twice is refused: it would mean the ring is not what the operator thinks. */
export const keyRing = (keys: readonly WebhookKey[]): WebhookKeyRing => {
  const [current] = keys;
  if (!current) throw new Error('a key ring needs at least one key');
  const byId = new Map<string, WebhookKey>();
  for (const key of keys) {
    const twin = byId.get(key.kid);
    if (twin) throw new TenureError('webhook.key_duplicate', `${twin.source} and ${key.source} are the same key (key id ${key.kid}); list each key once`);
    byId.set(key.kid, key);
  }
  return { current, keys: byId };
};

/**
 * A new signing secret: 256 random bits, prefixed so that a leaked one is recognisable in scanners
 * and logs. Standard base64 after `whsec_`, as the Standard Webhooks spec and its libraries (which
 * decode strictly) expect; secrets issued before were base64url, and still sign (see signature.ts).
 */
export const newWebhookSecret = (): string => `whsec_${randomBytes(32).toString('base64')}`;

/**
 * AES-256-GCM under the ring's current key, stored as `v2.kid.iv.tag.ciphertext` (base64url parts).
 * The key id lets decryption pick its key without trying each one. The subscription id is bound in
 * as associated data, so a ciphertext copied onto another subscription's row does not decrypt.
 */
export const encryptSecret = (ring: WebhookKeyRing, secret: string, subscriptionId: string): string => {
  const { kid, key } = ring.current;
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(Buffer.from(subscriptionId, 'utf8'));
  const data = Buffer.concat([cipher.update(secret, 'utf8'), cipher.final()]);
  return [FORMAT, kid, ...[iv, cipher.getAuthTag(), data].map((part) => part.toString('base64url'))].join('.');
};

/**
 * The associated data a subscription's URL is encrypted under: distinct from its secret's, so the
 * two ciphertexts of one row cannot be swapped for each other.
 */
export const urlContext = (subscriptionId: string): string => `${subscriptionId}#url`;

/** The associated data of the secret a rotation replaced, kept while receivers switch: never swappable with the current one. */
export const previousSecretContext = (subscriptionId: string): string => `${subscriptionId}#previous`;

interface Parsed { kid: string | undefined; iv: Buffer; tag: Buffer; data: Buffer }

/** `v2.kid.iv.tag.data`, or the format before the key ring, `iv.tag.data`, which names no key. */
const parse = (stored: string): Parsed => {
  const parts = stored.split('.');
  const versioned = parts.length === 5 && parts[0] === FORMAT;
  if (!versioned && parts.length !== 3) throw new Error('the stored value is not in v2.kid.iv.tag.data (or iv.tag.data) form');
  const [iv, tag, data] = parts.slice(versioned ? 2 : 0).map((part) => Buffer.from(part, 'base64url')) as [Buffer, Buffer, Buffer];
  if (iv.length !== IV_BYTES) throw new Error('the stored value has no valid IV');
  return { kid: versioned ? parts[1] : undefined, iv, tag, data };
};

/** The key id a stored value names; undefined for the format before the key ring. */
export const storedKeyId = (stored: string): string | undefined => parse(stored).kid;

/** What a listing or report shows for the key of a stored value that names none, or is in neither format. */
export const LEGACY_KEY = 'legacy';
export const MALFORMED = 'malformed';

/** The key id a stored value is under, for display: never throws, so one damaged row cannot hide the others. */
export const keyLabelOf = (stored: string): string => {
  try { return parse(stored).kid ?? LEGACY_KEY; } catch { return MALFORMED; }
};

const open = (key: WebhookKey, value: Parsed, subscriptionId: string): string | undefined => {
  try {
    const decipher = createDecipheriv('aes-256-gcm', key.key, value.iv);
    decipher.setAAD(Buffer.from(subscriptionId, 'utf8'));
    decipher.setAuthTag(value.tag);
    return Buffer.concat([decipher.update(value.data), decipher.final()]).toString('utf8');
  } catch {
    return undefined;
  }
};

/**
 * Decrypts with the key the value names. A value from before the key ring names none: each key of
 * the ring is tried (GCM authenticates, so only the right one opens it; rings hold a few keys), which
 * keeps databases written with the single key of earlier versions working. Throws when the key is
 * not in the ring (naming its id, never key material), or the value or its associated data changed.
 */
export const decryptSecret = (ring: WebhookKeyRing, stored: string, subscriptionId: string): string => {
  const value = parse(stored);
  if (value.kid !== undefined) {
    const key = ring.keys.get(value.kid);
    if (!key) {
      throw new TenureError('webhook.key_unknown',
        `the value is encrypted under webhook key ${value.kid}, which is not in the key ring (${[...ring.keys.keys()].join(', ')}): restore that key, or re-create the subscription`);
    }
    const plain = open(key, value, subscriptionId);
    if (plain === undefined) throw new Error(`the value does not decrypt with webhook key ${key.kid} from ${key.source} (altered, or copied from another subscription?)`);
    return plain;
  }
  for (const key of ring.keys.values()) {
    const plain = open(key, value, subscriptionId);
    if (plain !== undefined) return plain;
  }
  throw new Error(`the value (stored before key ids) does not decrypt with any webhook key in the ring (${[...ring.keys.keys()].join(', ')}); was its key removed or changed?`);
};
