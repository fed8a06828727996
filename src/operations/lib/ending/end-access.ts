import { and, eq, inArray, type SQL } from 'drizzle-orm';
import { accessRequests, entitlements, grants, requestStages } from '../../../store/schema.js';
import type { Work } from '../../../work/context.js';

type GrantRow = typeof grants.$inferSelect;

/**
 * Ends the live grants matching `where` (revoked, with who and why), locking them first so a worker
 * expiring the same grants at the same moment cannot end one twice.
 */
export const revokeLiveGrants = async (work: Work, where: SQL, reason: string): Promise<GrantRow[]> => {
  const live = await work.tx.select({ grant: grants, systemId: entitlements.systemId }).from(grants)
    .innerJoin(entitlements, eq(grants.entitlementId, entitlements.id))
    .where(and(where, inArray(grants.status, ['scheduled', 'active'])))
    .for('update', { of: grants });
  if (live.length > 0) {
    await work.tx.update(grants).set({ status: 'revoked', endedAt: work.now, endedBy: work.actor.id ?? null, endReason: reason })
      .where(inArray(grants.id, live.map((l) => l.grant.id)));
  }
  for (const { grant, systemId } of live) {
    work.record({
      action: 'grant.revoked', subject: { type: 'grant', id: grant.id }, identityId: grant.identityId, systemId,
      before: { status: grant.status }, after: { status: 'revoked' }, reason,
    });
  }
  return live.map((l) => l.grant);
};

/** Cancels pending requests matching `where`; a cancelled request can never turn into a grant. */
export const cancelPendingRequests = async (work: Work, where: SQL, reason: string): Promise<number> => {
  const pending = await work.tx.select().from(accessRequests)
    .where(and(where, inArray(accessRequests.status, ['pending', 'queued']))).for('update');
  for (const request of pending) {
    await work.tx.update(accessRequests).set({ status: 'cancelled', decidedAt: work.now, decisionReason: reason })
      .where(eq(accessRequests.id, request.id));
    await work.tx.update(requestStages).set({ status: 'cancelled' })
      .where(and(eq(requestStages.requestId, request.id), eq(requestStages.status, 'pending')));
    work.record({
      action: 'request.cancelled', subject: { type: 'request', id: request.id },
      identityId: request.beneficiaryId, before: { status: request.status }, after: { status: 'cancelled' }, reason,
    });
  }
  return pending.length;
};
