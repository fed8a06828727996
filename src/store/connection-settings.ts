/**
 * How long Tenure waits for its PostgreSQL server before it gives up and answers 503. Without these
 * a failover that silently loses the old TCP flows hangs every request for as long as the kernel
 * keeps the dead connection (hours). See README "Configuration".
 */
export interface ConnectionSettings {
  /** Shown in pg_stat_activity: tenure-serve, tenure-worker, tenure-cli (the LISTEN connection adds -listen). */
  applicationName: string;
  /** Opening a connection, or waiting for a free one in the pool. */
  connectTimeoutMs: number;
  /** The server cancels a statement running longer (statement_timeout). */
  statementTimeoutMs: number;
  /** The server closes a session left idle inside a transaction (idle_in_transaction_session_timeout). */
  idleInTransactionTimeoutMs: number;
  /** The client gives up on a connection that has not answered a query: above the statement timeout, so it only fires when the server cannot say so itself. */
  queryTimeoutMs: number;
  /** Idle time before TCP keepalive probes start. */
  keepAliveDelayMs: number;
  /** The LISTEN connection runs SELECT 1 this often and is replaced when one takes longer than this. */
  heartbeatMs: number;
}

const milliseconds = (env: NodeJS.ProcessEnv, name: string, fallback: number): number => {
  const value = env[name];
  if (value === undefined || value === '') return fallback;
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed <= 0) throw new Error(`${name}: '${value}' is not a positive whole number of milliseconds`);
  return parsed;
};

/** The TENURE_DB_* variables, with defaults for a database on the same network. */
export const loadConnectionSettings = (env: NodeJS.ProcessEnv = process.env, applicationName = 'tenure'): ConnectionSettings => {
  const statementTimeoutMs = milliseconds(env, 'TENURE_DB_STATEMENT_TIMEOUT_MS', 30_000);
  const queryTimeoutMs = milliseconds(env, 'TENURE_DB_QUERY_TIMEOUT_MS', statementTimeoutMs + 5_000);
  if (queryTimeoutMs <= statementTimeoutMs) {
    throw new Error(`TENURE_DB_QUERY_TIMEOUT_MS (${queryTimeoutMs}) must be longer than TENURE_DB_STATEMENT_TIMEOUT_MS (${statementTimeoutMs}), or a slow statement looks like a lost connection`);
  }
  return {
    applicationName,
    connectTimeoutMs: milliseconds(env, 'TENURE_DB_CONNECT_TIMEOUT_MS', 5_000),
    statementTimeoutMs,
    idleInTransactionTimeoutMs: milliseconds(env, 'TENURE_DB_IDLE_IN_TRANSACTION_TIMEOUT_MS', 60_000),
    queryTimeoutMs,
    keepAliveDelayMs: milliseconds(env, 'TENURE_DB_KEEPALIVE_MS', 10_000),
    heartbeatMs: milliseconds(env, 'TENURE_DB_HEARTBEAT_MS', 5_000),
  };
};

/** What node-postgres enforces itself, and the application name (which a pooler passes on). */
const clientSideOptions = (settings: ConnectionSettings) => ({
  application_name: settings.applicationName,
  connectionTimeoutMillis: settings.connectTimeoutMs,
  keepAlive: true,
  keepAliveInitialDelayMillis: settings.keepAliveDelayMs,
  query_timeout: settings.queryTimeoutMs,
});

/** node-postgres client options carrying the settings (a pool passes them to every client it opens). */
export const clientOptions = (settings: ConnectionSettings) => ({
  ...clientSideOptions(settings),
  statement_timeout: settings.statementTimeoutMs,
  idle_in_transaction_session_timeout: settings.idleInTransactionTimeoutMs,
});

/**
 * The same through a transaction pooler (PgBouncer), which refuses a connection that sends any startup
 * parameter but a few (statement_timeout, idle_in_transaction_session_timeout and options are not
 * among them) and could not keep them anyway: its server connections are shared. The server-side
 * timeouts and jit=off are then the role's settings (ALTER ROLE … SET, docs/high-availability.md);
 * the client-side ones stay.
 */
export const pooledClientOptions = clientSideOptions;
