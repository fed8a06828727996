import assert from 'node:assert/strict';
import { createCipheriv, randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { TenureError } from '../domain/errors.js';
import { decryptSecret, encryptSecret, keyIdOf, keyRing, storedKeyId, webhookKey } from './crypto.js';

/** What versions before the key ring stored: `iv.tag.data`, naming no key. */
const legacyEncrypt = (key: Buffer, plain: string, aad: string): string => {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(Buffer.from(aad, 'utf8'));
  const data = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
  return [iv, cipher.getAuthTag(), data].map((part) => part.toString('base64url')).join('.');
};

const codeOf = (fn: () => unknown): string | undefined => {
  try { fn(); } catch (error) { return error instanceof TenureError ? error.code : 'not a TenureError'; }
  return undefined;
};

describe('the webhook key ring', () => {
  const older = webhookKey(randomBytes(32), 'old');
  const newer = webhookKey(randomBytes(32), 'new');

  it('derives a key id from the key: the same key always gets the same id, different keys different ids', () => {
    assert.equal(keyIdOf(Buffer.from(older.key)), older.kid);
    assert.notEqual(older.kid, newer.kid);
    assert.match(older.kid, /^[A-Za-z0-9_-]{11}$/, '8 bytes in base64url, no dots');
  });

  it('encrypts under the current key and names it, so the value decrypts with any ring that holds that key', () => {
    const stored = encryptSecret(keyRing([newer, older]), 'whsec_x', 'sub-1');
    assert.ok(stored.startsWith(`v2.${newer.kid}.`));
    assert.equal(storedKeyId(stored), newer.kid);
    assert.equal(decryptSecret(keyRing([older, newer]), stored, 'sub-1'), 'whsec_x', 'whichever key is current');
    assert.equal(decryptSecret(keyRing([newer]), stored, 'sub-1'), 'whsec_x');
  });

  it('still decrypts the format from before the key ring, with whichever key of the ring opens it', () => {
    const stored = legacyEncrypt(older.key, 'whsec_old', 'sub-1');
    assert.equal(storedKeyId(stored), undefined);
    assert.equal(decryptSecret(keyRing([newer, older]), stored, 'sub-1'), 'whsec_old');
    assert.throws(() => decryptSecret(keyRing([newer]), stored, 'sub-1'), /does not decrypt with any webhook key in the ring/);
  });

  it('refuses a value under a key that left the ring, naming the key id and nothing of any key', () => {
    const stored = encryptSecret(keyRing([older]), 'whsec_x', 'sub-1');
    assert.equal(codeOf(() => decryptSecret(keyRing([newer]), stored, 'sub-1')), 'webhook.key_unknown');
    assert.throws(() => decryptSecret(keyRing([newer]), stored, 'sub-1'), (error: Error) =>
      error.message.includes(older.kid) && !error.message.includes(older.key.toString('base64')) && !error.message.includes(newer.key.toString('base64')));
  });

  it('binds a value to its subscription: copied onto another, it does not decrypt', () => {
    const ring = keyRing([newer, older]);
    assert.throws(() => decryptSecret(ring, encryptSecret(ring, 'whsec_x', 'sub-1'), 'sub-2'), /does not decrypt with webhook key/);
    assert.throws(() => decryptSecret(ring, legacyEncrypt(older.key, 'whsec_x', 'sub-1'), 'sub-2'), /does not decrypt/);
  });

  it('refuses the same key twice, naming both places it came from', () => {
    const twin = webhookKey(Buffer.from(older.key), 'TENURE_WEBHOOK_KEY key 3');
    assert.equal(codeOf(() => keyRing([newer, older, twin])), 'webhook.key_duplicate');
    assert.throws(() => keyRing([newer, older, twin]), /old and TENURE_WEBHOOK_KEY key 3 are the same key/);
  });

  it('refuses a stored value in neither format', () => {
    assert.throws(() => decryptSecret(keyRing([newer]), 'a.b', 'sub-1'), /not in v2\.kid\.iv\.tag\.data/);
    assert.throws(() => decryptSecret(keyRing([newer]), 'v3.x.a.b.c', 'sub-1'), /not in v2\.kid\.iv\.tag\.data/);
  });
});
