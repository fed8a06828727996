/** Settings of the SSH proxy, from the environment (docs/sessions.md). */
import { positiveWholeNumber } from '../postgres/config.js';

export interface SshProxyConfig {
  /** The proxy's own host key (a private key file), which clients pin in known_hosts. */
  hostKeyPath: string;
  /** How long a client has to authenticate (default 10 s). */
  handshakeTimeoutMs: number;
  /** How long a host may take to accept the proxy's sign-in (default 10 s). */
  upstreamTimeoutMs: number;
  /** How often open sessions are checked against the decision point (default 200 ms: ends land within 1 s). */
  watchIntervalMs: number;
  /** How long before a grant's end the client is warned (default 60 s). */
  noticeBeforeMs: number;
  recordFlushMs: number;
  /**
   * The upstream CA's private key file: when set, the proxy signs in to hosts with a certificate it
   * mints per session (upstream-certificate.ts); unset, with the plain upstream key.
   */
  upstreamCaKeyPath?: string;
}

export const loadSshProxyConfig = (env: NodeJS.ProcessEnv = process.env): SshProxyConfig => {
  const hostKeyPath = env.TENURE_SSH_PROXY_HOST_KEY;
  if (!hostKeyPath) throw new Error('TENURE_SSH_PROXY_HOST_KEY: the SSH proxy needs a host key file (ssh-keygen -t ed25519 -N \'\' -f FILE)');
  return {
    hostKeyPath,
    handshakeTimeoutMs: positiveWholeNumber(env, 'TENURE_SSH_PROXY_HANDSHAKE_MS', 10_000),
    upstreamTimeoutMs: positiveWholeNumber(env, 'TENURE_SSH_PROXY_UPSTREAM_TIMEOUT_MS', 10_000),
    watchIntervalMs: positiveWholeNumber(env, 'TENURE_SSH_PROXY_WATCH_MS', 200),
    noticeBeforeMs: positiveWholeNumber(env, 'TENURE_SSH_PROXY_NOTICE_MS', 60_000),
    recordFlushMs: 200,
    ...(env.TENURE_SSH_PROXY_UPSTREAM_CA_KEY ? { upstreamCaKeyPath: env.TENURE_SSH_PROXY_UPSTREAM_CA_KEY } : {}),
  };
};
