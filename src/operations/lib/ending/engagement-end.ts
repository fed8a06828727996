import { and, eq, gt } from 'drizzle-orm';
import type { Engagement } from '../../../store/queries/catalogue.js';
import { accessRequests, engagements, entitlements, grants } from '../../../store/schema.js';
import type { Work } from '../../../work/context.js';
import { cancelPendingRequests, revokeLiveGrants } from './end-access.js';

/**
 * Ends an engagement: every pending request under it cancelled and every grant under it revoked.
 * The caller holds the engagement's identity, then the engagement (the lock order beside inTransaction).
 */
export const endEngagementWithin = async (work: Work, engagement: Engagement, reason: string) => {
  await work.tx.update(engagements).set({ status: 'ended', endedAt: work.now, endReason: reason })
    .where(eq(engagements.id, engagement.id));
  work.record({ action: 'engagement.ended', subject: { type: 'engagement', id: engagement.id },
    identityId: engagement.identityId, before: { status: 'active' }, after: { status: 'ended' }, reason });
  // Requests before grants, as the lock order says (see inTransaction).
  const cancelled = await cancelPendingRequests(work, eq(accessRequests.engagementId, engagement.id), `engagement ended: ${reason}`);
  const revoked = await revokeLiveGrants(work, eq(grants.engagementId, engagement.id), `engagement ended: ${reason}`);
  return { revoked: revoked.length, cancelled: cancelled.length };
};

/**
 * A grant never ends after its engagement: moving the engagement's end earlier moves every later
 * grant end (and pending request end) to the new end, each with its own audit event.
 */
export const capUnderEngagement = async (work: Work, engagement: Engagement, newEnd: Date) => {
  const requests = await work.tx.select().from(accessRequests)
    .where(and(eq(accessRequests.engagementId, engagement.id), eq(accessRequests.status, 'pending'), gt(accessRequests.endsAt, newEnd)))
    .for('update');
  for (const request of requests) {
    await work.tx.update(accessRequests).set({ endsAt: newEnd }).where(eq(accessRequests.id, request.id));
    work.record({ action: 'request.shortened', subject: { type: 'request', id: request.id },
      identityId: request.beneficiaryId, before: { endsAt: request.endsAt }, after: { endsAt: newEnd },
      reason: 'engagement end moved earlier' });
  }
  const longer = await work.tx.select({ grant: grants, systemId: entitlements.systemId }).from(grants)
    .innerJoin(entitlements, eq(grants.entitlementId, entitlements.id))
    .where(and(eq(grants.engagementId, engagement.id), gt(grants.endsAt, newEnd)))
    .for('update', { of: grants });
  for (const { grant, systemId } of longer) {
    if (grant.status !== 'active' && grant.status !== 'scheduled') continue;
    await work.tx.update(grants).set({ endsAt: newEnd }).where(eq(grants.id, grant.id));
    work.record({ action: 'grant.shortened', subject: { type: 'grant', id: grant.id }, identityId: grant.identityId,
      systemId, before: { endsAt: grant.endsAt }, after: { endsAt: newEnd }, reason: 'engagement end moved earlier' });
  }
  return { grantsShortened: longer.length, requestsShortened: requests.length };
};
