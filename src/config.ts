import { resolve } from 'node:path';
import { readOidcSettings, type OidcSettings } from './auth/oidc-config.js';
import { DEFAULT_LEASE_MS } from './domain/provisioning.js';

/** Configuration comes from the environment only; see README "Configuration". */
export interface Config {
  dataDir: string;
  databaseUrl: string | undefined;
  actor: string | undefined;
  workerIntervalMs: number;
  checkpointIntervalMs: number;
  /** How long a provisioning claim lasts unrenewed; a live worker renews it, so a worker that dies loses its jobs after this. */
  provisioningLeaseMs: number;
  http: HttpConfig;
}

export interface HttpConfig {
  port: number;
  host: string;
  /** Largest request body accepted, in bytes. */
  bodyLimitBytes: number;
  /** Writes allowed per token (or session, or address when anonymous) per minute, per process. */
  writesPerMinute: number;
  /** The address people reach the service at; used for OIDC redirects and cookie security. */
  publicUrl: string;
  /** Web sign-in by OpenID Connect; undefined when TENURE_OIDC_ISSUER is not set (docs/authentication.md). */
  oidc?: OidcSettings | undefined;
}

const num = (value: string | undefined, fallback: number): number => (value ? Number(value) : fallback);

export const loadHttpConfig = (env: NodeJS.ProcessEnv = process.env): HttpConfig => {
  const port = num(env.PORT, 8080);
  const publicUrl = (env.TENURE_PUBLIC_URL ?? `http://localhost:${port}`).replace(/\/$/, '');
  return {
    port,
    host: env.TENURE_HOST ?? '127.0.0.1',
    bodyLimitBytes: num(env.TENURE_BODY_LIMIT_BYTES, 256 * 1024),
    writesPerMinute: num(env.TENURE_WRITES_PER_MINUTE, 300),
    publicUrl,
    oidc: readOidcSettings(env, publicUrl),
  };
};

/** A lease under a second would be renewed in a busy loop; a value that is not a number is a mistake to report, not to guess at. */
const leaseMs = (value: string | undefined): number => {
  if (!value) return DEFAULT_LEASE_MS;
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < 1_000) throw new Error(`TENURE_PROVISIONING_LEASE_MS must be a whole number of milliseconds, at least 1000 (is '${value}')`);
  return parsed;
};

export const loadConfig = (env: NodeJS.ProcessEnv = process.env): Config => ({
  dataDir: resolve(env.TENURE_DATA_DIR ?? '.tenure'),
  databaseUrl: env.DATABASE_URL || undefined,
  actor: env.TENURE_ACTOR || undefined,
  workerIntervalMs: Number(env.TENURE_WORKER_INTERVAL_MS ?? 5000),
  checkpointIntervalMs: Number(env.TENURE_CHECKPOINT_INTERVAL_MS ?? 15 * 60 * 1000),
  provisioningLeaseMs: leaseMs(env.TENURE_PROVISIONING_LEASE_MS),
  http: loadHttpConfig(env),
});
