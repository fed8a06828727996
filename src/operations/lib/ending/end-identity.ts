import { and, eq, or } from 'drizzle-orm';
import type { IdentityStatus } from '../../../domain/model.js';
import { accessRequests, engagements, grants, identities } from '../../../store/schema.js';
import type { Work } from '../../../work/context.js';
import { endCredentialsOf } from './end-credentials.js';
import { endEngagementWithin } from './engagement-end.js';
import { cancelPendingRequests, revokeLiveGrants } from './end-access.js';

export interface EndedAccess { revoked: number; cancelled: number; revokedIds: string[] }

/**
 * Moves an identity the caller has locked (`lockIdentity`) out of active status and ends what it holds, in the caller's transaction:
 * every grant revoked, every pending request for it or by it cancelled, its API tokens revoked and
 * web sessions ended, and (on termination, or for an HR leaver) its engagements ended. Identities it
 * sponsors keep their grants until their end (see DESIGN).
 */
export const endIdentity = async (
  work: Work, person: { id: string; status: IdentityStatus }, to: 'suspended' | 'terminated', reason: string,
  options: { endEngagements?: boolean } = {},
): Promise<EndedAccess> => {
  await work.tx.update(identities).set({ status: to, updatedAt: work.now }).where(eq(identities.id, person.id));
  work.record({ action: 'identity.status_changed', subject: { type: 'identity', id: person.id }, identityId: person.id,
    before: { status: person.status }, after: { status: to }, reason });
  const why = `identity ${to}: ${reason}`;
  // In the lock order (see inTransaction): the caller holds the identity; engagements, then
  // requests, then grants. Ending the engagements last finds their requests and grants already ended.
  const ending = to === 'terminated' || options.endEngagements
    ? await work.tx.select().from(engagements).where(and(eq(engagements.identityId, person.id), eq(engagements.status, 'active'))).for('update')
    : [];
  const cancelled = await cancelPendingRequests(work,
    or(eq(accessRequests.beneficiaryId, person.id), eq(accessRequests.requesterId, person.id))!, why);
  const revoked = await revokeLiveGrants(work, eq(grants.identityId, person.id), why);
  await endCredentialsOf(work, person.id, why);
  for (const engagement of ending) await endEngagementWithin(work, engagement, why);
  return { revoked: revoked.length, cancelled, revokedIds: revoked.map((g) => g.id) };
};
