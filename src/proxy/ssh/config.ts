/** Settings of the SSH proxy, from the environment (docs/sessions.md). */
import { addressList } from '../../config.js';
import { TenureError } from '../../domain/errors.js';
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
  /**
   * The `source-address` of every minted certificate (TENURE_SSH_PROXY_SOURCE_ADDRESSES): the proxy's
   * addresses as the hosts see them, for a proxy behind NAT. Unset: the local address of each
   * session's own connection to the host.
   */
  sourceAddresses?: string[];
}

/** Only a certificate carries a source address, so a list without an upstream CA would restrict nothing: refused rather than ignored. */
const sourceAddressesOf = (env: NodeJS.ProcessEnv): { sourceAddresses?: string[] } => {
  const name = 'TENURE_SSH_PROXY_SOURCE_ADDRESSES';
  if (env[name] === undefined) return {};
  const list = addressList(name, env[name]);
  if (list.length === 0) throw new TenureError('input.invalid', `${name}: is set but names no address; unset it to use each connection's own`, { field: name });
  if (!env.TENURE_SSH_PROXY_UPSTREAM_CA_KEY) {
    throw new TenureError('input.invalid', `${name}: only a minted certificate carries a source address; set TENURE_SSH_PROXY_UPSTREAM_CA_KEY too, or unset it`,
      { field: name });
  }
  return { sourceAddresses: list };
};

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
    ...sourceAddressesOf(env),
  };
};
