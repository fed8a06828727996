import { and, asc, eq, inArray, sql, type SQL } from 'drizzle-orm';
import { excludedFromRequest } from '../../../domain/approval-rules.js';
import { loadAppliedPolicy } from '../../../policy/applied.js';
import type { PolicyPlan } from '../../../policy/plan.js';
import { findEntitlement } from '../../../store/queries/catalogue.js';
import { findIdentityById } from '../../../store/queries/identities.js';
import { accessRequests, entitlements, requestStages, systems } from '../../../store/schema.js';
import type { Work } from '../../../work/context.js';
import { partiesOfStoredRequest } from './parties.js';
import { ApprovalReads } from './approval-reads.js';
import { eligibleForStage } from './stage-candidates.js';

const sameSet = (a: readonly string[], b: readonly string[]) => a.length === b.length && a.every((id) => b.includes(id));

/**
 * Re-routes pending requests matching `where` after something that names their approvers changed
 * (a sponsor or owner re-assigned, a policy applied): each pending stage's approvers become whom a
 * decision would accept now (`eligibleForStage`). Without it the stored approvers went stale: the
 * old sponsor kept the request in their inbox but was refused, the new one could decide it but never
 * saw it. The migration 0016 triggers carry each change into the inbox in the same transaction.
 * Requests are locked in id order, after whatever the caller changed (the lock order of `inTransaction`).
 */
export const reroutePendingRequests = async (work: Work, where: SQL, reason: string): Promise<number> => {
  const pending = await work.tx.select().from(accessRequests).where(and(where, eq(accessRequests.status, 'pending')))
    .orderBy(asc(accessRequests.id)).for('update');
  if (pending.length === 0) return 0;
  const policy = await loadAppliedPolicy(work.tx);
  const stages = await work.tx.select().from(requestStages)
    .where(and(inArray(requestStages.requestId, pending.map((r) => r.id)), eq(requestStages.status, 'pending')))
    .orderBy(asc(requestStages.requestId), asc(requestStages.position));
  let rerouted = 0;
  for (const request of pending) {
    const beneficiary = await findIdentityById(work.tx, request.beneficiaryId);
    if (!beneficiary) continue;
    const { entitlement, system } = await findEntitlement(work.tx, request.entitlementId);
    const exclude = excludedFromRequest(request.requesterId, request.beneficiaryId, await partiesOfStoredRequest(work.tx, request));
    const changes = [];
    const reads = new ApprovalReads(work.tx);
    for (const stage of stages.filter((s) => s.requestId === request.id)) {
      const approverIds = await eligibleForStage(reads, policy, stage, beneficiary, system, entitlement.key, exclude);
      if (sameSet(approverIds, stage.approverIds)) continue;
      await work.tx.update(requestStages).set({ approverIds })
        .where(and(eq(requestStages.requestId, request.id), eq(requestStages.position, stage.position)));
      changes.push({ position: stage.position, kind: stage.kind, from: stage.approverIds, to: approverIds });
    }
    if (changes.length === 0) continue;
    rerouted += 1;
    work.record({ action: 'request.rerouted', subject: { type: 'request', id: request.id }, identityId: request.beneficiaryId,
      systemId: system.id, after: { stages: changes }, reason });
  }
  return rerouted;
};

/**
 * Pending requests whose approvers the plan changes are re-routed to whom the new policy names: every
 * one when the approval settings or the security role's holders change, else those for systems whose
 * owners changed. Re-routing reads the policy just stored, so it runs after `applyResolvedPolicy`.
 */
export const rerouteForPolicy = async (work: Work, plan: PolicyPlan, digest: string): Promise<number> => {
  // Separation-of-duties rules decide who may approve too (approval.rules.not_conflicting_holder).
  const everyone = plan.settings.some((s) => s.field.startsWith('approval.') || s.field.startsWith('separation_of_duties.'))
    || [...plan.roles.added, ...plan.roles.removed].some((r) => r.role === 'security');
  const reason = `policy ${digest.slice(0, 12)} applied`;
  if (everyone) return reroutePendingRequests(work, sql`true`, reason);
  const changed = plan.systems.changed.map((c) => c.key);
  if (changed.length === 0) return 0;
  return reroutePendingRequests(work, inArray(accessRequests.entitlementId, work.tx.select({ id: entitlements.id }).from(entitlements)
    .innerJoin(systems, eq(entitlements.systemId, systems.id)).where(inArray(systems.key, changed))), reason);
};
