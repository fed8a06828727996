import { and, eq, inArray } from 'drizzle-orm';
import { maxDurationMs } from '../../../domain/durations.js';
import { checkEvidenceDuration, evidenceRulesFor } from '../../../domain/evidence.js';
import { TenureError } from '../../../domain/errors.js';
import { newId } from '../../../domain/ids.js';
import { findSodConflict } from '../../../domain/separation-of-duties.js';
import { isNonEmployee } from '../../../domain/model.js';
import { checkMaxDuration, windowAtApproval, type Window } from '../../../domain/window.js';
import { activeEngagementOf, liveEntitlementKeys } from '../../../store/queries/catalogue.js';
import { accessRequests, entitlements, exceptions, grants } from '../../../store/schema.js';
import type { Work } from '../../../work/context.js';
import type { PendingDecision } from './decision.js';
import { revokeLiveGrants } from '../ending/end-access.js';
import { checkBeneficiaryStanding, checkEngagement } from './request-guards.js';
import { checkedOut, findSharedAccountHolder, othersWaitFirst, type Holder } from './shared-account.js';

/** What issuing a grant needs of the decision: the request, what it is for, and who approved it last (an exception's approver). */
export type GrantDecision = Pick<PendingDecision, 'request' | 'beneficiary' | 'entitlement' | 'system' | 'policy'> & { approverId: string };

/**
 * A grant, or, for a check-out of a shared account someone holds or others wait for, a place in its
 * line (check-out-queue.ts), with the holder if there is one now.
 */
export type IssueOutcome = { grantId: string; queued: false } | { grantId: null; queued: true; holder: Holder | null };

const asked = (d: GrantDecision) => d.request.durationMs !== null && d.request.kind !== 'extension';

/**
 * The window the grant gets: the request's explicit one, or its length of time from now, inside the
 * engagement. A request for a length of time is rewritten to that window when the grant is issued
 * (issueGrant), so it shows what was given.
 */
const grantWindow = async (work: Work, d: GrantDecision): Promise<Window> => {
  if (!asked(d)) return { startsAt: d.request.startsAt, endsAt: d.request.endsAt };
  const engagement = isNonEmployee(d.beneficiary.kind) ? await activeEngagementOf(work.tx, d.beneficiary.id, work.now) : undefined;
  return windowAtApproval(d.request.durationMs!, work.now, engagement?.endsAt);
};

/** Only a request for a length of time can wait for a shared account: an explicit window is a booking, refused when taken. */
const mayQueue = (d: GrantDecision) => d.request.kind === 'new' && d.request.durationMs !== null;

/** Rules checked at creation are checked again when access is about to be given: things change while a request waits. */
const recheck = async (work: Work, d: GrantDecision, window: Window) => {
  // FOR SHARE: a concurrent policy apply that retires this entitlement waits for us, or we see it retired.
  const [current] = await work.tx.select({ retired: entitlements.retired }).from(entitlements)
    .where(eq(entitlements.id, d.entitlement.id)).for('share');
  if (!current || current.retired || d.system.retired) {
    throw new TenureError('entitlement.retired', `${d.entitlement.key} was retired by policy while the request waited`);
  }
  await checkBeneficiaryStanding(work.tx, d.beneficiary);
  const engagement = await checkEngagement(work.tx, d.beneficiary, window.endsAt, work.now);
  checkMaxDuration(window, work.now,
    maxDurationMs(d.policy, d.entitlement.tier, d.beneficiary.kind, d.entitlement.maxDurationMs), `${d.entitlement.tier} access`);
  checkEvidenceDuration(evidenceRulesFor(d.policy.evidence ?? [],
    { tier: d.entitlement.tier, kind: d.beneficiary.kind, pattern: engagement?.pattern ?? null }), window, work.now);
  if (d.request.kind === 'extension') return engagement;
  const held = await liveEntitlementKeys(work.tx, d.beneficiary.id);
  if (held.includes(d.entitlement.key)) throw new TenureError('request.duplicate', `${d.beneficiary.handle} already holds ${d.entitlement.key}`);
  const conflict = findSodConflict(d.policy.separationOfDuties, d.entitlement.key, held);
  if (conflict) throw new TenureError('request.sod_conflict', `${d.entitlement.key} may not be held with ${conflict.conflictsWith} (${conflict.rule.name})`);
  return engagement;
};

/** Out-of-scope access is an exception approved by security; its end bounds the grant. */
const recordException = async (work: Work, d: GrantDecision, window: Window): Promise<string | null> => {
  if (!d.request.outOfScope) return null;
  const id = newId();
  await work.tx.insert(exceptions).values({
    id, kind: 'out_of_engagement_scope', requestId: d.request.id, identityId: d.beneficiary.id, entitlementId: d.entitlement.id,
    approverId: d.approverId, justification: d.request.justification, expiresAt: window.endsAt, createdAt: work.now,
  });
  work.record({ action: 'exception.created', subject: { type: 'exception', id }, identityId: d.beneficiary.id, systemId: d.system.id,
    after: { kind: 'out_of_engagement_scope', entitlement: d.entitlement.key, expiresAt: window.endsAt }, reason: d.request.justification });
  return id;
};

const extendGrant = async (work: Work, d: GrantDecision) => {
  const [target] = await work.tx.select().from(grants)
    .where(and(eq(grants.id, d.request.targetGrantId!), inArray(grants.status, ['scheduled', 'active']))).for('update');
  if (!target) throw new TenureError('request.invalid_target_grant', 'the grant to extend has already ended');
  await work.tx.update(grants).set({ endsAt: d.request.endsAt }).where(eq(grants.id, target.id));
  work.record({ action: 'grant.extended', subject: { type: 'grant', id: target.id }, identityId: target.identityId, systemId: d.system.id,
    before: { endsAt: target.endsAt }, after: { endsAt: d.request.endsAt }, reason: d.request.justification, ticket: d.request.ticket });
  return target.id;
};

const laterOf = (a: Date, b: Date): Date => (a.getTime() > b.getTime() ? a : b);

/**
 * Marks the request approved with its grant, and a request for a length of time with the window it
 * was given, in one update (a round trip fewer per final approval). After the grant's INSERT: the
 * request names the grant.
 */
const markApproved = async (work: Work, d: GrantDecision, grantId: string, window?: Window) => {
  await work.tx.update(accessRequests).set({ status: 'approved', decidedAt: work.now, grantId, ...(window && asked(d) ? window : {}) })
    .where(eq(accessRequests.id, d.request.id));
};

/**
 * Turns the fully approved request into its one grant (or moves the end of the grant it extends),
 * and marks the request approved with it; the caller records `request.approved`.
 * With `queue`, a check-out of a shared account someone holds, or others wait for, is not refused but
 * answered as to be queued, after every other check passed: the caller queues it (check-out-queue.ts).
 */
export const issueGrant = async (work: Work, d: GrantDecision, options: { queue?: boolean } = {}): Promise<IssueOutcome> => {
  // A scope change gives up the old grant first so the checks see what will be held afterwards; a
  // failed check rolls the revocation back with everything else.
  if (d.request.kind === 'scope_change') {
    const replaced = await revokeLiveGrants(work, eq(grants.id, d.request.targetGrantId!), `replaced by scope change ${d.request.id}`);
    if (replaced.length === 0) throw new TenureError('request.invalid_target_grant', 'the grant to replace has already ended');
  }
  const window = await grantWindow(work, d);
  const startsAt = laterOf(window.startsAt, work.now);
  const holder = await findSharedAccountHolder(work, { entitlement: d.entitlement, startsAt, endsAt: window.endsAt,
    except: d.request.kind === 'extension' ? d.request.targetGrantId ?? undefined : undefined });
  const queueable = options.queue === true && mayQueue(d);
  if (holder && !queueable) throw checkedOut(d.entitlement.key, holder);
  const waitInLine = holder !== undefined || (queueable && d.entitlement.sharedAccount && await othersWaitFirst(work, d.request));
  const engagement = await recheck(work, d, window);
  if (waitInLine) return { grantId: null, queued: true, holder: holder ?? null };
  if (d.request.kind === 'extension') {
    const extended = await extendGrant(work, d);
    await markApproved(work, d, extended);
    return { grantId: extended, queued: false };
  }
  const exceptionId = await recordException(work, d, window);
  const row = {
    id: newId(), identityId: d.beneficiary.id, entitlementId: d.entitlement.id, engagementId: engagement?.id ?? null,
    requestId: d.request.id, exceptionId, origin: 'request', startsAt, endsAt: window.endsAt,
    status: startsAt.getTime() > work.now.getTime() ? 'scheduled' : 'active', provisioningState: 'pending', createdAt: work.now,
  } satisfies typeof grants.$inferInsert;
  await work.tx.insert(grants).values(row);
  await markApproved(work, d, row.id, window);
  work.record({ action: 'grant.created', subject: { type: 'grant', id: row.id }, identityId: row.identityId, systemId: d.system.id,
    ticket: d.request.ticket, reason: d.request.justification,
    after: { status: row.status, entitlement: d.entitlement.key, startsAt, endsAt: row.endsAt, requestId: d.request.id, exceptionId,
      // Given from a shared account's line: shared_account.handed_over tells the person, so mail says it once (mail/dispatch.ts).
      ...(d.request.queueSeq !== null ? { fromLine: true } : {}) } });
  return { grantId: row.id, queued: false };
};
