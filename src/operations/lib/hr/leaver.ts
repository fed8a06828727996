/**
 * A leaver: suspended at once with everything they hold ended, what they answered for flagged to
 * their manager, the access of the people they sponsored put to review, and a leave that arrived
 * after it took effect reported with what happened in between.
 */
import { and, eq, gte, inArray } from 'drizzle-orm';
import { formatDuration } from '../../../domain/durations.js';
import { countOf } from '../../../domain/plural.js';
import type { Identity } from '../../../store/queries/identities.js';
import { entitlements, grants, identities } from '../../../store/schema.js';
import { accessEvents } from '../../../store/schema-service.js';
import type { Work } from '../../../work/context.js';
import { endIdentity, type EndedAccess } from '../ending/end-identity.js';
import { openFinding } from '../provisioning/findings.js';
import type { HrEventData } from './match.js';
import type { HrRunState } from './run.js';
import { flagOrphanedOwnership } from '../ending/orphaned-ownership.js';
import { openCampaign } from '../reviews/campaigns.js';

const LATE_EVIDENCE_LIMIT = 50;

/** Access that stayed open between the effective leave and now: the grants live then, and what the decision point allowed since. */
const reportLateLeave = async (work: Work, person: Identity, event: HrEventData, revokedIds: string[]) => {
  const used = await work.tx.select({ at: accessEvents.at, entitlement: accessEvents.entitlementKey, action: accessEvents.action })
    .from(accessEvents)
    .where(and(eq(accessEvents.identityId, person.id), eq(accessEvents.allowed, true), gte(accessEvents.at, event.effectiveAt)))
    .limit(LATE_EVIDENCE_LIMIT);
  const held = revokedIds.length === 0 ? [] : await work.tx.select({ id: grants.id, entitlement: entitlements.key }).from(grants)
    .innerJoin(entitlements, eq(entitlements.id, grants.entitlementId)).where(inArray(grants.id, revokedIds));
  const lateByMs = work.now.getTime() - event.effectiveAt.getTime();
  await openFinding(work, {
    kind: 'late_termination', key: `late_termination:${person.id}:${event.source}:${event.eventId}`, identityId: person.id,
    summary: `${person.handle} left on ${event.effectiveAt.toISOString()} but HR said so ${formatDuration(lateByMs, 'words')} later`,
    evidence: { effectiveAt: event.effectiveAt.toISOString(), processedAt: work.now.toISOString(), lateByMs, source: event.source,
      eventId: event.eventId, grantsOpenMeanwhile: held, accessAllowedSinceLeaving: used },
  });
};

/**
 * What happened to what the leaver answered for, as it is: the findings are the manager's when HR
 * named one, else each goes to whoever else answers for the thing (a vendor's relationship owner, a
 * system's other owner), and readers of every finding (security, IAM, audit) see them all.
 */
const orphanedEffect = (count: number, hasManager: boolean): string => {
  const things = countOf(count, 'thing they answered for', 'things they answered for');
  return hasManager ? `${things} flagged to their manager (ownership_orphaned findings)`
    : `${things} flagged as ownership_orphaned findings; no manager on record, so each goes to the vendor's relationship owner or the system's other owner where there is one, and security and IAM see them`;
};

export const suspendedEffect = (ended: EndedAccess): string =>
  `suspended; ${countOf(ended.revoked, 'grant')} revoked, ${countOf(ended.cancelled, 'request')} cancelled, tokens and sessions ended`;

/** Why a leave event suspends the person (their audit events and ended grants carry it). */
export const leaveReason = (event: HrEventData): string => `HR leave ${event.source}/${event.eventId}`;

/** Whether HR said so late enough that a late_termination finding reports what stayed open meanwhile. */
export const isLate = (work: Work, run: HrRunState, event: HrEventData): boolean =>
  work.now.getTime() - event.effectiveAt.getTime() > run.settings.lateAfterMs;

export const offboard = async (work: Work, run: HrRunState, person: Identity, event: HrEventData, why: string): Promise<string[]> => {
  const effects: string[] = [];
  if (person.status === 'active' || person.status === 'pending') {
    const ended = await endIdentity(work, person, 'suspended', why, { endEngagements: true });
    effects.push(suspendedEffect(ended));
    run.summary.leavers += 1;
    if (isLate(work, run, event)) {
      await reportLateLeave(work, person, event, ended.revokedIds);
      run.summary.late += 1;
      effects.push('late: a late_termination finding lists what stayed open');
    }
  }
  const orphaned = await flagOrphanedOwnership(work, person, run.settings.reassignWithinMs);
  if (orphaned.length > 0) effects.push(orphanedEffect(orphaned.length, person.managerId !== null));
  // Most leavers sponsor nobody: the offboarding review is only for those who did.
  if (!orphaned.some((thing) => thing.type === 'sponsorship')) return effects;
  const manager = person.managerId
    ? (await work.tx.select({ id: identities.id, status: identities.status }).from(identities).where(eq(identities.id, person.managerId)))[0]
    : undefined;
  const sponsored = work.tx.select({ id: identities.id }).from(identities).where(eq(identities.sponsorId, person.id));
  const review = await openCampaign(work, {
    name: `offboarding of ${person.handle}: access of the people they sponsored`, trigger: 'offboarding',
    scope: { sponsor: person.id }, grants: inArray(grants.identityId, sponsored),
    reviewer: manager?.status === 'active' ? { fixed: manager.id } : 'system_owner',
    dueAt: new Date(work.now.getTime() + run.reviewDueMs), undecided: null,
  });
  if (review.campaignId) { run.summary.reviewsOpened += 1; effects.push(`offboarding review of ${countOf(review.items, 'grant')}`); }
  return effects;
};
