import { sql } from 'drizzle-orm';
import { rawRows, type Store } from '../store/database.js';
import { provisioningSettings } from './lib/provisioning/settings.js';

/** Who is signing in through the SSH proxy, under which grant, and where the proxy connects for them. */
export interface SshProxyLogin {
  identityId: string; handle: string; grantId: string;
  systemId: string; systemKey: string; entitlementId: string; entitlementKey: string;
  /** The account on the host (the entitlement's target, the certificate's principal). */
  account: string;
  host: { name: string; address: string; port: number; hostKey: string };
  /** Path of the key only the proxy holds, which the host authorises for proxied accounts. */
  upstreamKeyPath: string;
  /** A certificate valid now for this key and grant was issued to a sign-in with MFA (see docs/sessions.md). */
  mfa: boolean;
  /** When the freshest of those MFA sign-ins happened; undefined when none is known. */
  mfaAt?: Date | undefined;
  /** The `host:port` destinations this grant's entitlement may forward to (domain/ssh-forwarding.ts); empty: none. */
  forwarding: string[];
  /** SFTP and scp are relayed (and recorded); false when the entitlement says `file_transfer: false`. */
  fileTransfer: boolean;
}

interface Row {
  identity_id: string; handle: string; grant_id: string; system_id: string; system_key: string; entitlement_id: string; entitlement_key: string;
  mfa: boolean;
  mfa_at: Date | string | null;
}

const splitAddress = (address: string) => {
  const at = address.lastIndexOf(':');
  return { address: address.slice(0, at).replace(/^\[(.*)\]$/, '$1'), port: Number(address.slice(at + 1)) };
};

/**
 * Reads, never writes. A person is known to the SSH proxy by a key Tenure certified for one of
 * their grants (`tenure ssh sign`): the certificate's record names the key's fingerprint, and only a
 * certificate valid now counts. The login `account@host` picks the grants whose system serves `host`
 * through the proxy and whose target is `account` (several when entitlements share a target, e.g. a
 * shared account and a personal one). Which of them is live now is the decision point's to say;
 * this only finds the candidates, newest certificate first. Empty when nothing matches, told apart
 * from nothing else, so a probe learns nothing about keys or hosts.
 */
export const resolveSshProxyLogins = async (
  store: Store, login: { fingerprint: string; account: string; host: string }, now: Date,
): Promise<SshProxyLogin[]> => {
  const rows = await rawRows<Row>(store.db, sql`
    SELECT DISTINCT g.identity_id, i.handle, g.id AS grant_id, s.id AS system_id, s.key AS system_key, e.id AS entitlement_id, e.key AS entitlement_key,
           max(c.valid_before) OVER (PARTITION BY g.id) AS latest, bool_or(c.mfa) OVER (PARTITION BY g.id) AS mfa,
           max(c.mfa_at) FILTER (WHERE c.mfa) OVER (PARTITION BY g.id) AS mfa_at
      FROM ssh_certificates c JOIN grants g ON g.id = c.grant_id JOIN identities i ON i.id = g.identity_id
      JOIN entitlements e ON e.id = g.entitlement_id JOIN systems s ON s.id = e.system_id
     WHERE c.public_key_fingerprint = ${login.fingerprint} AND c.valid_after <= ${now} AND c.valid_before > ${now}
     ORDER BY latest DESC`);
  if (rows.length === 0) return [];
  const settings = await provisioningSettings(store.db);
  return rows.flatMap((row): SshProxyLogin[] => {
    const system = settings.systems[row.system_key];
    if (system?.connector.type !== 'ssh-ca' || !system.connector.proxy) return [];
    const host = system.connector.proxy.hosts[login.host];
    if (!host || system.targets[row.entitlement_key] !== login.account) return [];
    return [{
      identityId: row.identity_id, handle: row.handle, grantId: row.grant_id, systemId: row.system_id, systemKey: row.system_key,
      entitlementId: row.entitlement_id, entitlementKey: row.entitlement_key, account: login.account,
      host: { name: login.host, ...splitAddress(host.address), hostKey: host.host_key },
      upstreamKeyPath: system.connector.proxy.upstream_key.slice('file:'.length), mfa: row.mfa === true,
      mfaAt: row.mfa_at === null ? undefined : new Date(row.mfa_at),
      forwarding: system.forwarding?.[row.entitlement_key] ?? [],
      fileTransfer: !(system.noFileTransfer ?? []).includes(row.entitlement_key),
    }];
  });
};
