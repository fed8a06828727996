import { and, eq, inArray, or } from 'drizzle-orm';
import type { IdentityStatus } from '../../../domain/model.js';
import { accessRequests, engagements, grants, identities } from '../../../store/schema.js';
import type { Work } from '../../../work/context.js';
import { endCredentialsOf } from './end-credentials.js';
import { endEngagementWithin } from './engagement-end.js';
import { cancelPendingRequests, revokeLiveGrants } from './end-access.js';

export interface EndedAccess { revoked: number; cancelled: number; revokedIds: string[] }
/** An identity to end, and why. */
export interface Ending { id: string; status: IdentityStatus; reason: string }

/**
 * Moves identities the caller has locked (`lockIdentity`, `lockIdentities`) out of active status and
 * ends what they hold, in the caller's transaction: every grant revoked, every pending request for
 * them or by them cancelled, their API tokens revoked and web sessions ended, and (on termination,
 * or for an HR leaver) their engagements ended. Identities they sponsor keep their grants until
 * their end (see DESIGN). Several at once end with one statement per kind of thing and the same rows
 * and audit events as one after the other in the order given: a request between two of them is
 * cancelled by (and counted for) the first.
 */
export const endIdentities = async (
  work: Work, people: readonly Ending[], to: 'suspended' | 'terminated', options: { endEngagements?: boolean } = {},
): Promise<Map<string, EndedAccess>> => {
  const ids = people.map((p) => p.id);
  const position = new Map(ids.map((id, i) => [id, i]));
  const why = (id: string) => `identity ${to}: ${people[position.get(id)!]!.reason}`;
  await work.tx.update(identities).set({ status: to, updatedAt: work.now }).where(inArray(identities.id, ids));
  for (const person of people) {
    work.record({ action: 'identity.status_changed', subject: { type: 'identity', id: person.id }, identityId: person.id,
      before: { status: person.status }, after: { status: to }, reason: person.reason });
  }
  // In the lock order (see inTransaction): the caller holds the identities; engagements, then
  // requests, then grants. Ending the engagements last finds their requests and grants already ended.
  const ending = to === 'terminated' || options.endEngagements
    ? await work.tx.select().from(engagements).where(and(inArray(engagements.identityId, ids), eq(engagements.status, 'active'))).for('update')
    : [];
  const firstOf = (r: { beneficiaryId: string; requesterId: string }) =>
    [r.beneficiaryId, r.requesterId].filter((id) => position.has(id)).sort((a, b) => position.get(a)! - position.get(b)!)[0]!;
  const cancelled = await cancelPendingRequests(work,
    or(inArray(accessRequests.beneficiaryId, ids), inArray(accessRequests.requesterId, ids))!, (r) => why(firstOf(r)));
  const revoked = await revokeLiveGrants(work, inArray(grants.identityId, ids), (g) => why(g.identityId));
  await endCredentialsOf(work, ids, why);
  for (const engagement of ending) await endEngagementWithin(work, engagement, why(engagement.identityId));
  // One pass over each list, not one per person: a run ends thousands of people at once.
  const ended = new Map<string, EndedAccess>(ids.map((id) => [id, { revoked: 0, cancelled: 0, revokedIds: [] }]));
  for (const grant of revoked) { const e = ended.get(grant.identityId)!; e.revoked += 1; e.revokedIds.push(grant.id); }
  for (const request of cancelled) ended.get(firstOf(request))!.cancelled += 1;
  return ended;
};

/** One identity: see endIdentities. */
export const endIdentity = async (
  work: Work, person: { id: string; status: IdentityStatus }, to: 'suspended' | 'terminated', reason: string,
  options: { endEngagements?: boolean } = {},
): Promise<EndedAccess> => (await endIdentities(work, [{ id: person.id, status: person.status, reason }], to, options)).get(person.id)!;
