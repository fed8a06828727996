import { z } from 'zod';

const IPV4_LOOPBACK = /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/;

/** Loopback only, by name or address: a receiver on the same machine, as in tests and local development. */
const isLoopback = (hostname: string): boolean =>
  hostname === 'localhost' || hostname.endsWith('.localhost') || IPV4_LOOPBACK.test(hostname) || hostname === '[::1]';

/**
 * A receiver URL: https, or plain http to a loopback address only, since payloads name people and
 * their access and must not cross a network in clear. A user name or password in the URL is refused
 * outright: the signature already authenticates Tenure. A path or query may still carry a
 * credential (Slack-style `/services/T…/B…/secret`, `?token=…`), which receivers commonly require,
 * so those are accepted but treated as secret: the full URL is kept encrypted like the signing
 * secret, used only to deliver, and everywhere else shown as `redactWebhookUrl` gives it.
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

/** What marks the hidden path and query of a redacted URL. */
export const REDACTED_PATH = '/…';

/**
 * The URL as it may be shown (API, audit log, CLI): scheme, host and port; the path and query, which
 * may carry a credential, replaced by a marker. Redacting a redacted URL changes nothing.
 */
export const redactWebhookUrl = (value: string): string => {
  let url: URL;
  try { url = new URL(value); } catch { return REDACTED_PATH; }
  const hidden = url.pathname !== '/' || url.search !== '' || url.username !== '' || url.password !== '';
  return `${url.protocol}//${url.host}${hidden ? REDACTED_PATH : '/'}`;
};
