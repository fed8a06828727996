/**
 * The pool every Tenure process talks to its PostgreSQL server through, made to survive the server:
 * a restart, a failover or pg_terminate_backend must fail the queries in flight (the HTTP layer
 * answers 503) and never the process.
 */
import pg from 'pg';
import { clientOptions, pooledClientOptions, type ConnectionSettings } from './connection-settings.js';
import { isOnStandby } from './transient-errors.js';

type Report = (error: Error) => void;
type Query = (...args: unknown[]) => unknown;

/**
 * Gives a checked-out client back to the pool as broken, so the pool closes it and opens another.
 * Its holder may still call release() later (drizzle does, except when BEGIN itself failed, and then
 * the client would be lost to the pool for good): that second call must do nothing, since pg-pool
 * throws on a double release.
 */
const discard = (client: pg.PoolClient, error: Error, checkedOut: WeakSet<pg.PoolClient>): void => {
  if (!checkedOut.has(client)) return;
  checkedOut.delete(client);
  const release = client.release;
  client.release = () => undefined;
  release(error);
};

/**
 * pg's query_timeout fails the query but leaves the connection as it was: still waiting for an
 * answer that may never come, and handed to the next caller. A query that timed out means the
 * connection is lost (the statement timeout, which is shorter, would have answered otherwise). So
 * is one that turned out to be on a standby after a failover: kept, it would refuse every write.
 */
const discardWhenUseless = (client: pg.PoolClient, onUseless: (error: Error) => void): void => {
  const query = client.query.bind(client) as Query;
  const check = (error: unknown) => {
    if (error instanceof Error && (error.message === 'Query read timeout' || isOnStandby(error))) onUseless(error);
  };
  client.query = ((...args: unknown[]) => {
    const last = args.length - 1;
    const callback = args[last];
    if (typeof callback === 'function') {
      args[last] = (error: unknown, result: unknown) => { check(error); (callback as Query)(error, result); };
      return query(...args);
    }
    const result = query(...args);
    // A second handler on the caller's promise: the caller still sees the rejection.
    if (result instanceof Promise) result.catch(check);
    return result;
  }) as typeof client.query;
};

/** Closes the socket under a client: it then fails as lost, and the pool drops it (pg-pool does the same on a connect timeout). */
const cut = (client: pg.PoolClient): void => {
  (client as unknown as { connection: { stream: { destroy(): void } } }).connection.stream.destroy();
};

/**
 * A pool whose clients never raise an unhandled 'error' event: pg-pool listens on idle clients
 * only, and a connection that breaks while checked out (the common case under load) would
 * otherwise crash the process. `report` hears of every loss.
 */
export const createPool = (url: string, settings: ConnectionSettings, options: { max?: number; report?: Report; pooled?: boolean } = {}): pg.Pool => {
  const report = options.report ?? ((error: Error) => { process.emitWarning(`PostgreSQL connection lost: ${error.message}`); });
  const pool = new pg.Pool({
    connectionString: url, max: options.max ?? 10,
    ...(options.pooled ? pooledClientOptions(settings) : {
      ...clientOptions(settings),
      // JIT off: Tenure's queries are short, and before autovacuum has analysed a freshly filled table
      // the planner's estimates pass jit_above_cost and every query paid for compilation (audit verify
      // over 1M events ran 2.5x slower with it).
      options: '-c jit=off',
    }),
  });
  const checkedOut = new WeakSet<pg.PoolClient>();
  const open = new Set<pg.PoolClient>();
  // A connection that stopped answering is usually not alone: after a failover that silently lost
  // the old flows, every idle connection is as dead, and each would cost a caller a full timeout;
  // after one that left them on a standby, each would refuse a caller's write.
  const cutIdle = () => { for (const client of open) if (!checkedOut.has(client)) cut(client); };
  // An idle connection the server drops: the pool has already discarded it; the next query opens a new one.
  pool.on('error', report);
  pool.on('acquire', (client) => { checkedOut.add(client); });
  pool.on('release', (_error, client) => { checkedOut.delete(client); });
  pool.on('remove', (client) => { open.delete(client); });
  pool.on('connect', (client) => {
    open.add(client);
    client.on('error', (error) => { report(error); discard(client, error, checkedOut); });
    discardWhenUseless(client, (error) => { report(error); discard(client, error, checkedOut); cutIdle(); });
  });
  return pool;
};
