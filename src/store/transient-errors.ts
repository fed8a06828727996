/**
 * Which database errors are transient: worth running the whole unit of work again (a lost lock
 * race), or answering 503 with Retry-After instead of 500 (the database is not reachable right
 * now, rather than this request being wrong). Drivers wrap errors (drizzle's DrizzleQueryError
 * keeps the driver's as `cause`; a connect to several addresses fails with an AggregateError), so
 * the whole chain is examined.
 */

/** SQLSTATEs of a transaction the server aborted to break a lock cycle or keep a serializable history. */
const CONFLICT_CODES = new Set(['40P01', '40001']);

/** Socket-level failures: the server refused, reset, or cannot be routed to. */
const NETWORK_CODES = new Set([
  'ECONNREFUSED', 'ECONNRESET', 'ECONNABORTED', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'EHOSTDOWN', 'ENETUNREACH', 'ENETDOWN', 'EAI_AGAIN',
]);

/**
 * SQLSTATEs of a lost or refused session: class 08 (connection exception), the server shutting down
 * or starting (57P01-57P03), a session it closed for idling in a transaction (25P03, 57P05), and a
 * session on a standby (below).
 */
const LOST_SESSION = /^(08...|57P0[1-3]|25P03|57P05|25006)$/;

/**
 * read_only_sql_transaction: Tenure never opens a read-only transaction, so a write refused this way
 * ran on a standby. A proxy in front of a failover manager (HAProxy on Patroni) sent the connection to
 * a node that was not, or is no longer, the primary: nothing was written, and a new connection
 * reaches the primary. Such a session is as good as lost, and the pool must not keep it.
 */
const ON_STANDBY = '25006';

/** node-postgres and pg-pool say it in words, without a code. */
const DRIVER_MESSAGES = [
  'Connection terminated', // also "... unexpectedly" and "... due to connection timeout"
  'timeout exceeded when trying to connect',
  'Query read timeout',
  'is not queryable', // "Client was closed and ...", "Client has encountered a connection error and ..."
  'Client has encountered a connection error',
];

/** The error and its causes, outermost first (bounded: a cause cycle must not hang the caller). */
const chain = (error: unknown): unknown[] => {
  const seen: unknown[] = [];
  const visit = (e: unknown) => {
    if (e === null || e === undefined || typeof e !== 'object' || seen.includes(e) || seen.length > 20) return;
    seen.push(e);
    if (e instanceof AggregateError) for (const inner of e.errors) visit(inner);
    visit((e as { cause?: unknown }).cause);
  };
  visit(error);
  return seen;
};

const codeOf = (e: unknown): unknown => (e as { code?: unknown }).code;

const lostConnection = (e: unknown): boolean => {
  const code = codeOf(e);
  if (typeof code === 'string' && (NETWORK_CODES.has(code) || LOST_SESSION.test(code))) return true;
  const message = (e as { message?: unknown }).message;
  return typeof message === 'string' && DRIVER_MESSAGES.some((text) => message.includes(text));
};

/** A deadlock or serialization failure: the server rolled the transaction back, so running it again is safe. */
export const isRetryableConflict = (error: unknown): boolean =>
  chain(error).some((e) => { const code = codeOf(e); return typeof code === 'string' && CONFLICT_CODES.has(code); });

/** The connection to the database broke, was refused, or did not answer in time. */
export const isConnectionLoss = (error: unknown): boolean => chain(error).some(lostConnection);

/**
 * The database cannot serve this request now, though the request may well succeed later: a lost
 * connection, or the server refusing more work (too many connections, a statement cancelled by
 * statement_timeout or by an administrator), or a read cancelled by a conflict: on a read replica a
 * long report is cancelled (40001, 40P01) when replay must remove rows its snapshot still sees.
 */
export const isDatabaseUnavailable = (error: unknown): boolean =>
  chain(error).some((e) => lostConnection(e) || ['53300', '57014'].includes(String(codeOf(e)))) || isRetryableConflict(error);

/** The first code along the cause chain (a SQLSTATE or a Node error code), for logs and problem details. */
export const errorCodeOf = (error: unknown): string | undefined =>
  chain(error).map(codeOf).find((code): code is string => typeof code === 'string');

/** The session is on a standby (see ON_STANDBY): the pool drops it, and the ones beside it. */
export const isOnStandby = (error: unknown): boolean => chain(error).some((e) => codeOf(e) === ON_STANDBY);
