import { resolve } from 'node:path';
import { readOidcSettings, type OidcSettings } from './auth/oidc-config.js';
import { loadConnectionSettings, type ConnectionSettings } from './store/connection-settings.js';
import { DEFAULT_LEASE_MS } from './domain/provisioning.js';
import { parseCidr } from './domain/decision-conditions.js';
import { TenureError } from './domain/errors.js';

/** Configuration comes from the environment only; see README "Configuration". */
export interface Config {
  dataDir: string;
  databaseUrl: string | undefined;
  /**
   * TENURE_DIRECT_DATABASE_URL: the same database without a pooler in between, for what needs a
   * session of its own (LISTEN, the migration lock). Set, it says DATABASE_URL may be a transaction
   * pooler such as PgBouncer (docs/high-availability.md).
   */
  directDatabaseUrl: string | undefined;
  /**
   * TENURE_READ_DATABASE_URL: a streaming replica of the same database, for the heavy reads that may
   * lag (reports, audit search and export, evidence packs, the decision index's first load). Unset,
   * everything reads the primary (docs/high-availability.md, "Read replica").
   */
  readDatabaseUrl: string | undefined;
  /** Timeouts and keepalive towards the PostgreSQL server (TENURE_DB_*); the runtime names the application per command. */
  connection: ConnectionSettings;
  actor: string | undefined;
  workerIntervalMs: number;
  /** How often the worker signs the chain head when events were added (TENURE_CHECKPOINT_INTERVAL_MS, 5 s). */
  checkpointIntervalMs: number;
  /**
   * TENURE_AUDIT_CHECKPOINTS: `on` (default) or `off`. Off is for a server database whose operator
   * accepts that the log's tail can be cut unnoticed; serve and worker then warn at every start.
   */
  auditCheckpoints: 'on' | 'off';
  /** The owner role's URL for migrations (TENURE_MIGRATION_DATABASE_URL); serve and worker may then run as a lesser role. */
  migrationDatabaseUrl: string | undefined;
  /** How long a provisioning claim lasts unrenewed; a live worker renews it, so a worker that dies loses its jobs after this. */
  provisioningLeaseMs: number;
  http: HttpConfig;
}

export interface HttpConfig {
  port: number;
  host: string;
  /** Largest request body accepted, in bytes. */
  bodyLimitBytes: number;
  /**
   * Writes allowed per identity (all its tokens and sessions together), or per client address when
   * anonymous, per minute, counted in the database across every process.
   */
  writesPerMinute: number;
  /**
   * Load balancers whose X-Forwarded-For and X-Forwarded-Proto are believed (TENURE_TRUST_PROXY):
   * addresses or CIDRs. Empty trusts nobody: the client address is then the TCP peer.
   */
  trustProxy: string[];
  /** The address people reach the service at; used for OIDC redirects and cookie security. */
  publicUrl: string;
  /** Web sign-in by OpenID Connect; undefined when TENURE_OIDC_ISSUER is not set (docs/authentication.md). */
  oidc?: OidcSettings | undefined;
}

/**
 * The window in which events exist that nothing outside the database vouches for: a database owner
 * can cut that much of the tail without `audit verify` noticing (docs/audit.md).
 */
export const DEFAULT_CHECKPOINT_INTERVAL_MS = 5_000;

/**
 * How long `audit verify` lets events stay unsigned before it says no checkpointer is at work
 * (TENURE_AUDIT_UNSIGNED_GRACE_MS): six default intervals, room for a worker pass and a slow commit.
 */
export const unsignedGraceMs = (env: NodeJS.ProcessEnv = process.env): number => num(env.TENURE_AUDIT_UNSIGNED_GRACE_MS, 30_000);

const num = (value: string | undefined, fallback: number): number => (value ? Number(value) : fallback);

/** An IPv4 or IPv6 address, or one with a prefix length that fits it: what proxy-addr accepts, less its named ranges and netmasks. */
const isAddressOrCidr = (entry: string): boolean => parseCidr(entry) !== undefined;

/** A comma-separated list of IP addresses and CIDRs in the setting `name`; a wrong entry is refused, naming it. */
export const addressList = (name: string, value: string | undefined): string[] => {
  const entries = (value ?? '').split(',').map((entry) => entry.trim()).filter(Boolean);
  const bad = entries.find((entry) => !isAddressOrCidr(entry));
  if (bad !== undefined) {
    throw new TenureError('input.invalid', `${name}: '${bad}' is not an IP address or CIDR (e.g. 10.0.0.0/8, fd00::/8)`, { field: name });
  }
  return entries;
};

/**
 * TENURE_TRUST_PROXY as a list. A wrong entry stops the start: silently dropping it would either
 * leave every client looking like the balancer (one shared write budget) or trust too much.
 */
export const trustedProxies = (value: string | undefined): string[] => addressList('TENURE_TRUST_PROXY', value);

export const loadHttpConfig = (env: NodeJS.ProcessEnv = process.env): HttpConfig => {
  const port = num(env.PORT, 8080);
  const publicUrl = (env.TENURE_PUBLIC_URL ?? `http://localhost:${port}`).replace(/\/$/, '');
  return {
    port,
    host: env.TENURE_HOST ?? '127.0.0.1',
    bodyLimitBytes: num(env.TENURE_BODY_LIMIT_BYTES, 256 * 1024),
    writesPerMinute: num(env.TENURE_WRITES_PER_MINUTE, 300),
    trustProxy: trustedProxies(env.TENURE_TRUST_PROXY),
    publicUrl,
    oidc: readOidcSettings(env, publicUrl),
  };
};

/** Without DATABASE_URL the embedded database is used, and a direct URL would be silently ignored: a mistake worth stopping for. */
const directUrl = (env: NodeJS.ProcessEnv): string | undefined => {
  if (!env.TENURE_DIRECT_DATABASE_URL) return undefined;
  if (!env.DATABASE_URL) throw new Error('TENURE_DIRECT_DATABASE_URL is set without DATABASE_URL: set both (the pooled and the direct URL of one database), or neither');
  return env.TENURE_DIRECT_DATABASE_URL;
};

/** A replica beside the embedded database would be silently ignored, as a direct URL would. */
const readUrl = (env: NodeJS.ProcessEnv): string | undefined => {
  if (!env.TENURE_READ_DATABASE_URL) return undefined;
  if (!env.DATABASE_URL) throw new Error('TENURE_READ_DATABASE_URL is set without DATABASE_URL: a read replica serves a PostgreSQL primary; set DATABASE_URL too, or unset it');
  return env.TENURE_READ_DATABASE_URL;
};

/** Where a session of its own is opened (LISTEN): the direct URL when DATABASE_URL goes through a pooler. */
export const sessionDatabaseUrl = (config: Pick<Config, 'databaseUrl' | 'directDatabaseUrl'>): string | undefined =>
  config.databaseUrl && (config.directDatabaseUrl ?? config.databaseUrl);

/** A lease under a second would be renewed in a busy loop; a value that is not a number is a mistake to report, not to guess at. */
const leaseMs = (value: string | undefined): number => {
  if (!value) return DEFAULT_LEASE_MS;
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < 1_000) throw new Error(`TENURE_PROVISIONING_LEASE_MS must be a whole number of milliseconds, at least 1000 (is '${value}')`);
  return parsed;
};

const onOff = (name: string, value: string | undefined): 'on' | 'off' => {
  if (value === undefined || value === '' || value === 'on') return 'on';
  if (value === 'off') return 'off';
  throw new Error(`${name} must be on or off (is '${value}')`);
};

export const loadConfig = (env: NodeJS.ProcessEnv = process.env): Config => ({
  dataDir: resolve(env.TENURE_DATA_DIR ?? '.tenure'),
  databaseUrl: env.DATABASE_URL || undefined,
  directDatabaseUrl: directUrl(env),
  readDatabaseUrl: readUrl(env),
  connection: loadConnectionSettings(env),
  actor: env.TENURE_ACTOR || undefined,
  workerIntervalMs: Number(env.TENURE_WORKER_INTERVAL_MS ?? 5000),
  checkpointIntervalMs: Number(env.TENURE_CHECKPOINT_INTERVAL_MS ?? DEFAULT_CHECKPOINT_INTERVAL_MS),
  auditCheckpoints: onOff('TENURE_AUDIT_CHECKPOINTS', env.TENURE_AUDIT_CHECKPOINTS),
  migrationDatabaseUrl: env.TENURE_MIGRATION_DATABASE_URL || undefined,
  provisioningLeaseMs: leaseMs(env.TENURE_PROVISIONING_LEASE_MS),
  http: loadHttpConfig(env),
});
