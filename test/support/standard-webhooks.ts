import { Webhook } from 'standardwebhooks';
import type { Hit } from './webhook-receiver.js';

/**
 * What a receiver built on the `standardwebhooks` package does with a delivery: verify the
 * webhook-* headers over the raw body, throwing when anything is off. The library checks the
 * timestamp against Date.now(), and the test worlds run on a manual clock (2030), so Date.now is
 * set to the receiver's `now` for the synchronous call and put back after.
 */
export const verifyStandard = (secret: string, hit: Pick<Hit, 'body' | 'headers'>, now: Date): unknown => {
  const headers = {
    'webhook-id': String(hit.headers['webhook-id']),
    'webhook-timestamp': String(hit.headers['webhook-timestamp']),
    'webhook-signature': String(hit.headers['webhook-signature']),
  };
  const realNow = Date.now;
  Date.now = () => now.getTime();
  try {
    return new Webhook(secret).verify(hit.body, headers);
  } finally {
    Date.now = realNow;
  }
};
