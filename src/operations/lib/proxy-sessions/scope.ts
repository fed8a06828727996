import { and, eq, exists, or, type SQL } from 'drizzle-orm';
import type { Executor } from '../../../store/database.js';
import { identities, systems } from '../../../store/schema.js';
import { proxySessions } from '../../../store/schema-proxy.js';
import { may, type ActingIdentity } from '../../authorize.js';

/**
 * Who may read a proxied session and its recording: the person themself, those who answer for
 * them (sponsor, manager, an NHI's owner), the owners of the system it reached, and readers of all
 * sessions (security, auditors, administrators). One SQL condition, so a list and a single read
 * apply the very same rule; undefined when the actor reads every session.
 */
export const visibleSessions = (exec: Executor, acting: ActingIdentity): SQL | undefined => {
  if (may(acting, 'proxy_session.read_all')) return undefined;
  const me = acting.identity.id;
  return or(
    eq(proxySessions.identityId, me),
    exists(exec.select({ one: identities.id }).from(identities).where(and(eq(identities.id, proxySessions.identityId),
      or(eq(identities.sponsorId, me), eq(identities.managerId, me), eq(identities.ownerId, me))))),
    exists(exec.select({ one: systems.id }).from(systems).where(and(eq(systems.id, proxySessions.systemId),
      or(eq(systems.businessOwnerId, me), eq(systems.technicalOwnerId, me))))),
  );
};
