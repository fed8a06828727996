import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { Webhook } from 'standardwebhooks';
import { newWebhookSecret } from '../src/webhooks/crypto.js';
import { standardWebhookHeaders, standardWebhookKey } from '../src/webhooks/signature.js';

const body = JSON.stringify({ id: '42', type: 'grant.revoked', occurredAt: '2030-01-01T09:00:00.000Z', data: { grantId: 'g1' } });

/** A secret as issued before Standard Webhooks: base64url after whsec_, made to contain both '-' and '_'. */
const oldStyleSecret = (): { secret: string; key: Buffer } => {
  for (;;) {
    const key = randomBytes(32);
    const bare = key.toString('base64url');
    if (bare.includes('-') && bare.includes('_')) return { secret: `whsec_${bare}`, key };
  }
};

describe('Standard Webhooks signatures', () => {
  it('a new secret is whsec_ and standard base64 of 32 random bytes', () => {
    const secret = newWebhookSecret();
    assert.match(secret, /^whsec_[A-Za-z0-9+/]{43}=$/);
    assert.equal(Buffer.from(secret.slice(6), 'base64').length, 32);
    assert.notEqual(newWebhookSecret(), secret);
  });

  it('the standardwebhooks package verifies headers signed with a new secret, and its own signature is the same', () => {
    const secret = newWebhookSecret();
    const at = new Date();
    const headers = standardWebhookHeaders(secret, '42', body, at);
    assert.equal(headers['webhook-id'], '42');
    assert.equal(headers['webhook-timestamp'], String(Math.floor(at.getTime() / 1000)));
    assert.deepEqual(new Webhook(secret).verify(body, headers), JSON.parse(body));
    assert.equal(headers['webhook-signature'], new Webhook(secret).sign('42', at, body));
  });

  it('the standardwebhooks package refuses an altered body, another id, another secret and an old timestamp', () => {
    const secret = newWebhookSecret();
    const headers = standardWebhookHeaders(secret, '42', body, new Date());
    assert.throws(() => new Webhook(secret).verify(body.replace('g1', 'g2'), headers));
    assert.throws(() => new Webhook(secret).verify(body, { ...headers, 'webhook-id': '43' }));
    assert.throws(() => new Webhook(newWebhookSecret()).verify(body, headers));
    const old = standardWebhookHeaders(secret, '42', body, new Date(Date.now() - 10 * 60_000));
    assert.throws(() => new Webhook(secret).verify(body, old), /too old/);
  });

  it('a secret issued before (base64url) still signs with its key bytes; a strict receiver uses it rewritten in standard base64', () => {
    const { secret, key } = oldStyleSecret();
    assert.deepEqual(standardWebhookKey(secret), key, 'both alphabets decode to the same key');
    const headers = standardWebhookHeaders(secret, '7', body, new Date());
    assert.throws(() => new Webhook(secret).verify(body, headers), 'the strict library cannot read a base64url secret');
    const rewritten = `whsec_${secret.slice(6).replaceAll('-', '+').replaceAll('_', '/')}=`;
    assert.deepEqual(new Webhook(rewritten).verify(body, headers), JSON.parse(body), 'the documented rewrite works');
  });
});
