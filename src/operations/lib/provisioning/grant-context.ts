/**
 * Everything a connector needs to know about one grant, read fresh when a job runs (or a credential
 * is issued): the grant may have changed since the job was queued, and the account's end and
 * whether this is the person's last grant on the system depend on every grant they hold there now.
 */
import { sql } from 'drizzle-orm';
import type { ConnectorGrant } from '../../../connectors/contract.js';
import type { Executor } from '../../../store/database.js';
import { rawRows } from '../../../store/database.js';

export interface GrantContext {
  grantStatus: string;
  systemKey: string;
  technicalOwnerId: string;
  identityHandle: string;
  /** When an ended grant's removal fell due: its end, or its revocation if that came first; null while it is live. */
  removalDueAt: Date | null;
  connectorGrant: (targetName: string) => ConnectorGrant;
}

interface Row {
  shared_account: boolean; status: string; starts_at: Date; ends_at: Date | null; ended_at: Date | null; entitlement_key: string; system_key: string; technical_owner_id: string;
  handle: string; others: number; others_open_ended: boolean | null; others_max_end: Date | null;
}

export const loadGrantContext = async (exec: Executor, grantId: string): Promise<GrantContext> => {
  const [row] = await rawRows<Row>(exec, sql`
    SELECT e.shared_account, g.status, g.starts_at, g.ends_at, g.ended_at, e.key AS entitlement_key, s.key AS system_key, s.technical_owner_id, i.handle,
           o.others, o.others_open_ended, o.others_max_end
      FROM grants g JOIN entitlements e ON e.id = g.entitlement_id JOIN systems s ON s.id = e.system_id
      JOIN identities i ON i.id = g.identity_id,
      LATERAL (SELECT count(*)::int AS others, bool_or(g2.ends_at IS NULL) AS others_open_ended, max(g2.ends_at) AS others_max_end
                 FROM grants g2 JOIN entitlements e2 ON e2.id = g2.entitlement_id
                WHERE g2.identity_id = g.identity_id AND e2.system_id = e.system_id AND g2.status = 'active' AND g2.id <> g.id
                  AND NOT e2.shared_account) o
     WHERE g.id = ${grantId}`);
  if (!row) throw new Error(`grant ${grantId} does not exist`);
  const toDate = (value: Date | string | null) => (value === null ? null : new Date(value));
  const endsAt = toDate(row.ends_at);
  const othersEnd = toDate(row.others_max_end);
  const endedAt = toDate(row.ended_at);
  // The account must stay valid for the longest live grant; one without end keeps it open-ended.
  const live = row.status === 'active';
  const openEnded = row.others_open_ended === true || (live && endsAt === null);
  const candidates = [live ? endsAt : null, othersEnd].filter((d): d is Date => d !== null);
  const accountEndsAt = openEnded || candidates.length === 0 ? null : new Date(Math.max(...candidates.map((d) => d.getTime())));
  return {
    grantStatus: row.status, systemKey: row.system_key, technicalOwnerId: row.technical_owner_id, identityHandle: row.handle,
    removalDueAt: endedAt && endsAt && endsAt < endedAt ? endsAt : endedAt,
    connectorGrant: (targetName) => ({
      grantId, identityHandle: row.handle, entitlementKey: row.entitlement_key, targetName,
      startsAt: new Date(row.starts_at), endsAt, accountEndsAt,
      // A shared account's check-out never touches the person's own login role, so it is never its last grant.
      lastOnSystem: !row.shared_account && row.others === 0, ...(row.shared_account ? { sharedAccount: true } : {}),
    }),
  };
};
