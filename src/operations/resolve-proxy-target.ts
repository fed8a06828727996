import { connectorFor } from '../connectors/registry.js';
import { PostgresRolesConnector } from '../connectors/postgres-roles.js';
import { resolveSecretRef } from '../connectors/secret-ref.js';
import { TenureError } from '../domain/errors.js';
import { findEntitlement } from '../store/queries/catalogue.js';
import type { Store } from '../store/database.js';
import { provisioningSettings } from './lib/provisioning/settings.js';

/** Where and as whom the PostgreSQL proxy connects for one entitlement of one person. */
export interface PgProxyTarget {
  systemId: string; systemKey: string; entitlementId: string;
  /**
   * The person's login role, which holds exactly the memberships their live grants give; for a
   * shared account, the shared role itself (the session is attributed to the person by its record).
   */
  account: string;
  /** The entitlement's role, taken with SET ROLE so the session acts as the grant; the account itself for a shared account (no SET ROLE). */
  role: string;
  host: string; port: number; database: string;
  tls: { mode: 'require' | 'verify-ca' | 'verify-full'; rootCert?: string | undefined; cert?: string | undefined; key?: string | undefined } | undefined;
  parameters: 'redact' | 'keep';
}

const TLS_MODES = ['require', 'verify-ca', 'verify-full'] as const;

/** libpq's TLS parameters of the upstream URL; `disable`, `allow`, `prefer` or none mean plain TCP. */
const tlsOf = (url: URL): PgProxyTarget['tls'] => {
  const mode = url.searchParams.get('sslmode');
  if (mode === null || ['disable', 'allow', 'prefer'].includes(mode)) return undefined;
  if (!(TLS_MODES as readonly string[]).includes(mode)) {
    throw new TenureError('input.invalid', `upstream: sslmode=${mode} is not one of disable, prefer, ${TLS_MODES.join(', ')}`, { field: 'upstream' });
  }
  const file = (name: string) => url.searchParams.get(name) ?? undefined;
  return { mode: mode as (typeof TLS_MODES)[number], rootCert: file('sslrootcert'), cert: file('sslcert'), key: file('sslkey') };
};

const notProxied = (key: string, why: string) => new TenureError('entitlement.not_found', `${key}: ${why}`, { field: 'database' });

/**
 * Reads, never writes: the entitlement a client named as its database, its system's connector and
 * the proxy settings there. Only a postgres-roles system whose connector has `proxy:` is reachable.
 */
export const resolvePgProxyTarget = async (store: Store, entitlementKey: string, handle: string): Promise<PgProxyTarget> => {
  const { entitlement, system } = await findEntitlement(store.db, entitlementKey, 'database');
  if (entitlement.retired) throw notProxied(entitlementKey, 'the entitlement is retired');
  const spec = (await provisioningSettings(store.db)).systems[system.key];
  if (spec?.connector.type !== 'postgres-roles' || !spec.connector.proxy) {
    throw notProxied(entitlementKey, `${system.key} is not a PostgreSQL system served through the proxy`);
  }
  const connector = connectorFor(spec) as PostgresRolesConnector;
  const role = spec.targets[entitlement.key] ?? entitlement.key;
  const url = new URL(resolveSecretRef(spec.connector.proxy.upstream ?? spec.connector.url, 'upstream'));
  return {
    systemId: system.id, systemKey: system.key, entitlementId: entitlement.id,
    // A shared account is signed in as itself: the person's login role neither holds it nor may take it.
    account: entitlement.sharedAccount ? role : connector.loginRole(handle), role,
    host: url.hostname, port: Number(url.port || 5432), database: decodeURIComponent(url.pathname.slice(1)) || 'postgres', tls: tlsOf(url),
    parameters: spec.connector.proxy.parameters,
  };
};
