import { z } from 'zod';

const IPV4_LOOPBACK = /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/;

/** Loopback only, by name or address: a receiver on the same machine, as in tests and local development. */
const isLoopback = (hostname: string): boolean =>
  hostname === 'localhost' || hostname.endsWith('.localhost') || IPV4_LOOPBACK.test(hostname) || hostname === '[::1]';

/**
 * A receiver URL: https, or plain http to a loopback address only, since payloads name people and
 * their access and must not cross a network in clear. Credentials in the URL are refused: the URL is
 * stored, listed and written to the audit log in clear, and the signature already authenticates Tenure.
 */
export const webhookUrl = z.string().trim().max(2000, 'must be at most 2000 characters').transform((value, context) => {
  let url: URL;
  try { url = new URL(value); } catch {
    context.addIssue({ code: 'custom', message: 'must be an absolute URL such as https://hooks.example.com/tenure' });
    return z.NEVER;
  }
  if (url.username || url.password) {
    context.addIssue({ code: 'custom', message: 'must not carry a user name or password' });
    return z.NEVER;
  }
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && isLoopback(url.hostname))) {
    context.addIssue({ code: 'custom', message: 'must be https (plain http only to localhost or a loopback address)' });
    return z.NEVER;
  }
  url.hash = '';
  return url.toString();
});
