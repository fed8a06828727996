/** Settings of the PostgreSQL proxy, from the environment (docs/sessions.md). */
export interface PgProxyConfig {
  /** How long a client has to finish its startup and password (default 10 s). */
  handshakeTimeoutMs: number;
  /** The largest message a client may send (default 16 MiB); larger is a protocol error. */
  maxMessageBytes: number;
  upstreamMaxMessageBytes: number;
  upstreamTimeoutMs: number;
  /** How often open sessions are checked against the decision point (default 200 ms: ends land within 1 s). */
  watchIntervalMs: number;
  /** How long before a grant's end the client is warned (default 60 s). */
  noticeBeforeMs: number;
  /** How long finished statements wait to be written in one batch (default 200 ms). */
  recordFlushMs: number;
  /** PEM files of the proxy's certificate and key for clients; with them, clients must use TLS. */
  tlsCert?: string | undefined;
  tlsKey?: string | undefined;
}

export const positiveWholeNumber = (env: NodeJS.ProcessEnv, name: string, fallback: number): number => {
  const value = env[name];
  if (value === undefined || value === '') return fallback;
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed <= 0) throw new Error(`${name}: '${value}' is not a positive whole number`);
  return parsed;
};

const tlsFiles = (env: NodeJS.ProcessEnv) => {
  const cert = env.TENURE_PG_PROXY_TLS_CERT || undefined;
  const key = env.TENURE_PG_PROXY_TLS_KEY || undefined;
  if ((cert === undefined) !== (key === undefined)) throw new Error('TENURE_PG_PROXY_TLS_CERT and TENURE_PG_PROXY_TLS_KEY go together');
  return { tlsCert: cert, tlsKey: key };
};

export const loadPgProxyConfig = (env: NodeJS.ProcessEnv = process.env): PgProxyConfig => ({
  handshakeTimeoutMs: positiveWholeNumber(env, 'TENURE_PG_PROXY_HANDSHAKE_MS', 10_000),
  maxMessageBytes: positiveWholeNumber(env, 'TENURE_PG_PROXY_MAX_MESSAGE_BYTES', 16 * 1024 * 1024),
  upstreamMaxMessageBytes: 1024 * 1024 * 1024,
  upstreamTimeoutMs: positiveWholeNumber(env, 'TENURE_PG_PROXY_UPSTREAM_TIMEOUT_MS', 10_000),
  watchIntervalMs: positiveWholeNumber(env, 'TENURE_PG_PROXY_WATCH_MS', 200),
  noticeBeforeMs: positiveWholeNumber(env, 'TENURE_PG_PROXY_NOTICE_MS', 60_000),
  recordFlushMs: 200,
  ...tlsFiles(env),
});

/** `host:port` of TENURE_PG_PROXY_LISTEN or --listen. */
export const parseListen = (value: string): { host: string; port: number } => {
  const match = /^(.+):(\d{1,5})$/.exec(value.trim());
  const port = Number(match?.[2]);
  if (!match || port > 65535) throw new Error(`'${value}' is not host:port`);
  return { host: match[1]!.replace(/^\[(.*)\]$/, '$1'), port };
};
