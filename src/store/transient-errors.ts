/**
 * Which database errors are transient: worth running the whole unit of work again (a lost lock race)
 * or answering 503 instead of 500 (the server went away). Drivers and drizzle wrap the driver's error
 * (`DrizzleQueryError.cause`), so every test walks the cause chain.
 */

/** SQLSTATEs of a transaction the server aborted to break a lock cycle or keep a serializable history. */
const CONFLICT_CODES = new Set(['40P01', '40001']);

/**
 * SQLSTATEs and Node error codes of a connection that is gone: administrator or server shutdown
 * (57P01 admin_shutdown, 57P02 crash_shutdown, 57P03 cannot_connect_now), connection exceptions
 * (08xxx), and the socket-level failures of the driver.
 */
const CONNECTION_CODES = new Set(['57P01', '57P02', '57P03', '08000', '08001', '08003', '08004', '08006', 'ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ETIMEDOUT']);

/** Messages `pg` gives when the socket ended or the client was used after it broke (they carry no code). */
const CONNECTION_MESSAGES = [/Connection terminated/i, /Client has encountered a connection error/i, /Client was closed and is not queryable/i];

const MAX_DEPTH = 8;

/** The error and its causes, outermost first (bounded: a cause cycle must not hang the caller). */
const chain = (error: unknown): { code?: unknown; message?: unknown }[] => {
  const links: { code?: unknown; message?: unknown }[] = [];
  let current: unknown = error;
  while (current !== null && typeof current === 'object' && links.length < MAX_DEPTH) {
    links.push(current as { code?: unknown; message?: unknown });
    current = (current as { cause?: unknown }).cause;
  }
  return links;
};

/** A deadlock or serialization failure: the server rolled the transaction back, so running it again is safe. */
export const isRetryableConflict = (error: unknown): boolean =>
  chain(error).some((link) => typeof link.code === 'string' && CONFLICT_CODES.has(link.code));

/** The connection to the database broke (or could not be made): the server, not the request, is at fault. */
export const isConnectionLoss = (error: unknown): boolean =>
  chain(error).some((link) => (typeof link.code === 'string' && CONNECTION_CODES.has(link.code))
    || (typeof link.message === 'string' && CONNECTION_MESSAGES.some((pattern) => pattern.test(link.message as string))));

/** The first code along the cause chain (a SQLSTATE or a Node error code), for logs and problem details. */
export const errorCodeOf = (error: unknown): string | undefined =>
  chain(error).map((link) => link.code).find((code): code is string => typeof code === 'string');
