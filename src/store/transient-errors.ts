/**
 * Which database failures say "the database is not reachable right now" rather than "this request
 * is wrong": those answer 503 with Retry-After, never 500. Drivers wrap errors (drizzle's
 * DrizzleQueryError keeps the driver's as `cause`; a connect to several addresses fails with an
 * AggregateError), so the whole chain is examined.
 */

/** Socket-level failures: the server refused, reset, or cannot be routed to. */
const NETWORK_CODES = new Set([
  'ECONNREFUSED', 'ECONNRESET', 'ECONNABORTED', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'EHOSTDOWN', 'ENETUNREACH', 'ENETDOWN', 'EAI_AGAIN',
]);

/**
 * SQLSTATEs of a lost or refused session: class 08 (connection exception), the server shutting down
 * or starting (57P01-57P03), and a session it closed for idling in a transaction (25P03, 57P05).
 */
const LOST_SESSION = /^(08...|57P0[1-3]|25P03|57P05)$/;

/** node-postgres and pg-pool say it in words, without a code. */
const DRIVER_MESSAGES = [
  'Connection terminated', // also "... unexpectedly" and "... due to connection timeout"
  'timeout exceeded when trying to connect',
  'Query read timeout',
  'is not queryable', // "Client was closed and ...", "Client has encountered a connection error and ..."
];

const chain = (error: unknown): unknown[] => {
  const seen: unknown[] = [];
  const visit = (e: unknown) => {
    if (e === null || e === undefined || seen.includes(e) || seen.length > 20) return;
    seen.push(e);
    if (e instanceof AggregateError) for (const inner of e.errors) visit(inner);
    if (e instanceof Error) visit(e.cause);
  };
  visit(error);
  return seen;
};

const lostConnection = (e: unknown): boolean => {
  if (!(e instanceof Error)) return false;
  const code = (e as { code?: unknown }).code;
  if (typeof code === 'string' && (NETWORK_CODES.has(code) || LOST_SESSION.test(code))) return true;
  return DRIVER_MESSAGES.some((text) => e.message.includes(text));
};

/** The connection to the database broke, was refused, or did not answer in time. */
export const isConnectionLoss = (error: unknown): boolean => chain(error).some(lostConnection);

/**
 * The database cannot serve this request now, though the request may well succeed later: a lost
 * connection, or the server refusing more work (too many connections, a statement cancelled by
 * statement_timeout or by an administrator).
 */
export const isDatabaseUnavailable = (error: unknown): boolean =>
  chain(error).some((e) => lostConnection(e) || ['53300', '57014'].includes(String((e as { code?: unknown }).code)));
