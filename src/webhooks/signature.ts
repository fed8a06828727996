import { createHmac, timingSafeEqual } from 'node:crypto';

/** Tenure's own headers from before Standard Webhooks: still sent for one release, deprecated (docs/webhooks.md). */
export const SIGNATURE_HEADER = 'Tenure-Signature';
export const ID_HEADER = 'Tenure-Webhook-Id';
/** How old a signature a receiver should accept by default: long enough for clock skew, short enough to stop replays. */
export const DEFAULT_TOLERANCE_SECONDS = 300;

const hmacHex = (secret: string, timestamp: number, body: string): string =>
  createHmac('sha256', secret).update(`${timestamp}.${body}`, 'utf8').digest('hex');

/**
 * `t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">`, keyed by the whole secret string
 * (`whsec_...`). Signing the timestamp with the body lets a receiver refuse replays of old deliveries.
 * During a secret rotation's overlap there is one `v1=` per secret, the current one first.
 */
export const signatureHeader = (secrets: string | readonly string[], body: string, at: Date): string => {
  const t = Math.floor(at.getTime() / 1000);
  return [`t=${t}`, ...[secrets].flat().map((secret) => `v1=${hmacHex(secret, t, body)}`)].join(',');
};

export interface VerifyOptions {
  now: Date;
  toleranceSeconds?: number;
}

/**
 * The receiver's check, as documented in docs/webhooks.md: a v1 signature of the exact body bytes
 * with a timestamp within the tolerance. Several v1 values are accepted so that a future secret
 * rotation can sign with the old and the new secret at once.
 */
export const verifySignature = (secret: string, header: string | undefined, body: string, options: VerifyOptions): boolean => {
  if (!header) return false;
  const parts = header.split(',').map((part) => part.trim().split('='));
  const t = Number(parts.find(([name]) => name === 't')?.[1]);
  if (!Number.isInteger(t)) return false;
  const tolerance = options.toleranceSeconds ?? DEFAULT_TOLERANCE_SECONDS;
  if (Math.abs(options.now.getTime() / 1000 - t) > tolerance) return false;
  const expected = Buffer.from(hmacHex(secret, t, body), 'hex');
  return parts.filter(([name]) => name === 'v1').some(([, value]) => {
    const given = Buffer.from(value ?? '', 'hex');
    return given.length === expected.length && timingSafeEqual(given, expected);
  });
};

/**
 * The signing key of a `whsec_` secret, as the Standard Webhooks spec says: the base64 after the
 * prefix, decoded. Node's base64 decoder also accepts the base64url alphabet, so the secrets issued
 * before this release (base64url) sign too; strict receivers need the secret rewritten in standard
 * base64 (see docs/webhooks.md), which names the same key bytes.
 */
export const standardWebhookKey = (secret: string): Buffer =>
  Buffer.from(secret.startsWith('whsec_') ? secret.slice('whsec_'.length) : secret, 'base64');

/**
 * The Standard Webhooks headers (https://www.standardwebhooks.com): `webhook-id` is the event's id,
 * the same on every retry so that receivers can de-duplicate; the signature is
 * `v1,<base64 HMAC-SHA256 of "<id>.<timestamp>.<body>">`, so any Standard Webhooks (or Svix)
 * library verifies a delivery without Tenure-specific code. During a secret rotation's overlap the
 * header lists one signature per secret, space-separated as the spec allows; a receiver accepts
 * the delivery when any of them verifies with the secret it holds.
 */
export const standardWebhookHeaders = (secrets: string | readonly string[], id: string, body: string, at: Date): Record<string, string> => {
  const timestamp = Math.floor(at.getTime() / 1000);
  const mac = (secret: string) => createHmac('sha256', standardWebhookKey(secret)).update(`${id}.${timestamp}.${body}`, 'utf8').digest('base64');
  return { 'webhook-id': id, 'webhook-timestamp': String(timestamp), 'webhook-signature': [secrets].flat().map((s) => `v1,${mac(s)}`).join(' ') };
};
