import { inArray } from 'drizzle-orm';
import { z } from 'zod';
import { breakGlassTtl, chooseReviewer } from '../domain/break-glass.js';
import { TenureError } from '../domain/errors.js';
import { newId } from '../domain/ids.js';
import { isHuman } from '../domain/model.js';
import { loadAppliedPolicy } from '../policy/applied.js';
import { findSodConflict } from '../domain/separation-of-duties.js';
import { findEntitlement, liveEntitlementKeys } from '../store/queries/catalogue.js';
import { lockIdentity } from '../store/queries/identities.js';
import { accessRequests, grants, identities } from '../store/schema.js';
import { breakGlassReviews } from '../store/schema-break-glass.js';
import { loadActor } from './authorize.js';
import { inTransaction, type Context, type Work } from '../work/context.js';
import { duration, entitlementRef, parseInput, text } from './input.js';
import { checkBeneficiaryStanding, checkEngagement, checkNotDuplicate } from './lib/approval/request-guards.js';
import { openFinding } from './lib/provisioning/findings.js';
import { claimSharedAccount } from './lib/approval/shared-account.js';

export const Input = z.object({
  entitlement: entitlementRef,
  incident: text(200).describe('the incident reference (ticket of the incident system)'),
  reason: text(2000),
  ttl: duration.optional().describe('how long (default and maximum: the policy\'s break-glass max_ttl, at most 4h)'),
}).strict();

/** The reviewer must be an active person: a service account reviews nothing, a departed person cannot. */
const eligibleReviewers = async (work: Work, candidates: (string | undefined)[]) => {
  const ids = [...new Set(candidates.filter((id): id is string => !!id))];
  const rows = ids.length === 0 ? [] : await work.tx.select({ id: identities.id, kind: identities.kind, status: identities.status })
    .from(identities).where(inArray(identities.id, ids));
  const ok = new Set(rows.filter((r) => r.status === 'active' && isHuman(r.kind)).map((r) => r.id));
  return (id: string) => ok.has(id);
};

/**
 * `tenure breakglass`: access at once, for oneself only, on an entitlement the policy marks
 * break-glass capable, by an identity the policy allows, with an incident reference and a reason.
 * The grant ends within the policy's maximum (never over 4 hours) and within any engagement; a
 * review is assigned at the same moment to a named person who is not the user (the system's
 * business owner, its technical owner, then the policy's reviewers), due within a day. Everything
 * commits together: there is no break-glass access without its review.
 */
export const startBreakGlass = async (ctx: Context, input: z.input<typeof Input>) => {
  const data = parseInput(Input, input);
  return inTransaction(ctx, async (work) => {
    const acting = await loadActor(work.tx, work.actor.id);
    // The user's identity first (the lock order beside inTransaction): every grant to one person is
    // issued under this lock, so the duplicate and separation-of-duties checks below see any grant
    // a concurrent approval or break-glass is about to give them, and theirs sees this one.
    const user = await lockIdentity(work.tx, acting.identity.id);
    const policy = await loadAppliedPolicy(work.tx);
    const settings = policy.breakGlass;
    const { entitlement, system } = await findEntitlement(work.tx, data.entitlement);
    if (!settings || !settings.entitlements.includes(entitlement.key) || entitlement.retired || system.retired) {
      throw new TenureError('breakglass.not_capable', `${entitlement.key} is not break-glass capable`, { field: 'entitlement' });
    }
    if (!settings.userIds.includes(user.id)) {
      throw new TenureError('breakglass.not_allowed', `${user.handle} is not allowed to break the glass`, { field: 'entitlement' });
    }
    await checkBeneficiaryStanding(work.tx, user);
    // A non-employee needs an active engagement; the emergency access is cut at its end rather than refused.
    const engagement = await checkEngagement(work.tx, user, work.now, work.now);
    const wanted = work.now.getTime() + breakGlassTtl(data.ttl, settings);
    const endsAt = new Date(engagement ? Math.min(wanted, engagement.endsAt.getTime()) : wanted);
    await checkNotDuplicate(work.tx, user.id, entitlement.id);
    // An emergency on a shared account still has one holder at a time: the refusal names who has it, whom an owner may revoke.
    await claimSharedAccount(work, { entitlement, startsAt: work.now, endsAt });
    // An emergency does not wait for separation of duties, but it does not hide it either: a conflict
    // is let through, opened at once as a critical finding for security, and shown to the reviewer.
    const conflict = findSodConflict(policy.separationOfDuties, entitlement.key, await liveEntitlementKeys(work.tx, user.id));
    const candidates = [system.businessOwnerId, system.technicalOwnerId, ...settings.reviewerIds];
    const reviewerId = chooseReviewer(user.id, candidates, await eligibleReviewers(work, candidates));

    const requestId = newId();
    const grantId = newId();
    await work.tx.insert(accessRequests).values({
      id: requestId, kind: 'break_glass', requesterId: user.id, beneficiaryId: user.id, entitlementId: entitlement.id,
      engagementId: engagement?.id ?? null, justification: data.reason, ticket: data.incident, startsAt: work.now, endsAt,
      outOfScope: false, status: 'approved', expiresAt: work.now, decidedAt: work.now, decisionReason: 'break-glass', grantId, createdAt: work.now,
    });
    await work.tx.insert(grants).values({
      id: grantId, identityId: user.id, entitlementId: entitlement.id, engagementId: engagement?.id ?? null, requestId, origin: 'break_glass',
      startsAt: work.now, endsAt, status: 'active', provisioningState: 'pending', createdAt: work.now,
    });
    const reviewId = newId();
    const dueAt = new Date(work.now.getTime() + settings.reviewDueMs);
    await work.tx.insert(breakGlassReviews).values({
      id: reviewId, grantId, identityId: user.id, reviewerId, incident: data.incident, reason: data.reason,
      startsAt: work.now, endsAt, dueAt, status: 'pending', createdAt: work.now,
    });
    const sodConflict = conflict ? `${entitlement.key} with ${conflict.conflictsWith} (${conflict.rule.name})` : null;
    if (conflict) {
      await openFinding(work, { kind: 'sod_conflict', severity: 'critical', key: `sod_conflict:${user.id}:${conflict.rule.name}`, identityId: user.id,
        systemId: system.id, grantId, summary: `${user.handle} broke the glass into ${sodConflict}, which ${conflict.rule.name} keeps apart: ` +
          'the emergency went ahead; check what was done in the window, and revoke a side or accept it as an exception',
        evidence: { rule: conflict.rule.name, entitlements: conflict.rule.entitlements, breakGlass: { grantId, incident: data.incident } } });
    }
    const base = { identityId: user.id, systemId: system.id, ticket: data.incident, reason: data.reason };
    work.record({ ...base, action: 'grant.created', subject: { type: 'grant', id: grantId },
      after: { status: 'active', origin: 'break_glass', entitlement: entitlement.key, startsAt: work.now, endsAt, requestId } });
    work.record({ ...base, action: 'breakglass.activated', subject: { type: 'grant', id: grantId },
      after: { entitlement: entitlement.key, endsAt, incident: data.incident, reviewId, reviewerId, reviewDueAt: dueAt, sodConflict } });
    return { grantId, requestId, reviewId, entitlement: entitlement.key, startsAt: work.now, endsAt, reviewerId, reviewDueAt: dueAt, sodConflict };
  });
};
