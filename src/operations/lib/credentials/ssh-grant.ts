/**
 * A grant as the SSH use cases need it: its holder, window and status, its system's connector from
 * the applied policy, and the principal (the entitlement's target) its certificates carry.
 */
import { sql } from 'drizzle-orm';
import type { SshCaSpec } from '../../../connectors/ssh-ca.js';
import { rawRows, type Executor } from '../../../store/database.js';
import { provisioningSettings } from '../provisioning/settings.js';

export interface SshGrant {
  id: string;
  identityId: string;
  identityStatus: string;
  status: string;
  startsAt: Date;
  endsAt: Date | null;
  systemId: string;
  systemKey: string;
  entitlementKey: string;
  /** The system's connector when it is an SSH CA; null for any other system. */
  ssh: { spec: SshCaSpec; principal: string } | null;
}

interface Row {
  id: string; identity_id: string; identity_status: string; status: string; starts_at: Date | string; ends_at: Date | string | null;
  system_id: string; system_key: string; entitlement_key: string;
}

/** The grant, or undefined when there is none with that id. */
export const loadSshGrant = async (exec: Executor, grantId: string): Promise<SshGrant | undefined> => {
  const [row] = await rawRows<Row>(exec, sql`
    SELECT g.id, g.identity_id, i.status AS identity_status, g.status, g.starts_at, g.ends_at,
           s.id AS system_id, s.key AS system_key, e.key AS entitlement_key
      FROM grants g JOIN entitlements e ON e.id = g.entitlement_id JOIN systems s ON s.id = e.system_id
      JOIN identities i ON i.id = g.identity_id
     WHERE g.id = ${grantId}`);
  if (!row) return undefined;
  const system = (await provisioningSettings(exec)).systems[row.system_key];
  const principal = system?.targets[row.entitlement_key];
  const ssh = system?.connector.type === 'ssh-ca' && principal !== undefined ? { spec: system.connector, principal } : null;
  return {
    id: row.id, identityId: row.identity_id, identityStatus: row.identity_status, status: row.status,
    startsAt: new Date(row.starts_at), endsAt: row.ends_at === null ? null : new Date(row.ends_at),
    systemId: row.system_id, systemKey: row.system_key, entitlementKey: row.entitlement_key, ssh,
  };
};

/** Whether the grant gives access at `now`: active, started, not ended, and its holder active. */
export const liveAt = (grant: SshGrant, now: Date): boolean =>
  grant.status === 'active' && grant.identityStatus === 'active' && grant.startsAt.getTime() <= now.getTime()
  && (grant.endsAt === null || grant.endsAt.getTime() > now.getTime());
