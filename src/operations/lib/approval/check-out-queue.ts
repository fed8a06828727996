/**
 * The waiting line of a shared operational account (docs/sessions.md). A check-out asked for a
 * length of time, fully approved while someone else holds the account, is `queued` instead of
 * refused: every approval and check has been made, only the account is not free. When it comes free
 * (check-in, expiry, revocation), the worker pass gives it to the request queued first, with every
 * rule checked again as at any final approval, and its clock starts then. An explicit window is a
 * booking: it is refused when taken, never queued.
 */
import { and, asc, count, desc, eq, gt, inArray, isNotNull, lt, max } from 'drizzle-orm';
import { alias } from 'drizzle-orm/pg-core';
import { TenureError } from '../../../domain/errors.js';
import { loadAppliedPolicyAt } from '../../../policy/applied.js';
import { findEntitlement } from '../../../store/queries/catalogue.js';
import { accessRequests, grants, identities, requestStages } from '../../../store/schema.js';
import type { Executor } from '../../../store/database.js';
import type { Work } from '../../../work/context.js';
import { lockRequestAndBeneficiary } from './decision.js';
import { issueGrant, type GrantDecision } from './issue-grant.js';
import type { Holder } from './shared-account.js';

/**
 * Puts the fully approved request at the end of the account's line; the answer says who holds the
 * account and until when (null: nobody right now, but others were waiting first), and the place
 * (1 = next). The caller holds the account's row lock (findSharedAccountHolder), so no two
 * check-outs take the same number.
 */
export const queueCheckOut = async (work: Work, d: Pick<GrantDecision, 'request' | 'beneficiary' | 'system'>, holder: Holder | null) => {
  const line = eq(accessRequests.entitlementId, d.request.entitlementId);
  const [last] = await work.tx.select({ seq: max(accessRequests.queueSeq) }).from(accessRequests).where(line);
  const queueSeq = (last?.seq ?? 0) + 1;
  await work.tx.update(accessRequests).set({ status: 'queued', decidedAt: work.now, queueSeq }).where(eq(accessRequests.id, d.request.id));
  const [ahead] = await work.tx.select({ n: count() }).from(accessRequests)
    .where(and(line, eq(accessRequests.status, 'queued'), lt(accessRequests.queueSeq, queueSeq)));
  const position = (ahead?.n ?? 0) + 1;
  work.record({ action: 'request.queued', subject: { type: 'request', id: d.request.id }, identityId: d.beneficiary.id, systemId: d.system.id,
    before: { status: 'pending' }, after: { status: 'queued', position, holder } });
  return { position, holder };
};

/**
 * Each queued request's place in its account's line now (1 = next): those queued before it that
 * still wait, plus one. Places move up as the line moves, so they are counted when read, never kept.
 */
export const queuePlaces = async (exec: Executor, requestIds: string[]): Promise<Map<string, number>> => {
  if (requestIds.length === 0) return new Map();
  const ahead = alias(accessRequests, 'ahead');
  const rows = await exec.select({ id: accessRequests.id, n: count(ahead.id) }).from(accessRequests)
    .leftJoin(ahead, and(eq(ahead.entitlementId, accessRequests.entitlementId), eq(ahead.status, 'queued'), lt(ahead.queueSeq, accessRequests.queueSeq)))
    .where(and(inArray(accessRequests.id, requestIds), eq(accessRequests.status, 'queued'))).groupBy(accessRequests.id);
  return new Map(rows.map((r) => [r.id, Number(r.n) + 1]));
};

export type Outcome = 'given' | 'waiting' | 'gone';

/** Who approved last: an out-of-scope check-out's exception is theirs, as it would have been at once. */
const lastApprover = async (work: Work, requestId: string): Promise<string> => {
  const stages = await work.tx.select({ decidedBy: requestStages.decidedBy }).from(requestStages)
    .where(eq(requestStages.requestId, requestId)).orderBy(asc(requestStages.position));
  return stages.at(-1)?.decidedBy ?? '';
};

/**
 * Gives the queued request its grant if the account is free now; an account still held leaves the
 * line as it is. Locks as a final approval does (beneficiary, engagements, request, then the
 * account's row), so it serialises with approvals, cancellations and other passes. A rule that no
 * longer holds (the person left, a conflicting grant, a retired entitlement) is thrown as at any
 * approval, and the caller ends the request with lapseQueuedCheckOut in a transaction of its own.
 */
export const giveQueuedCheckOut = async (work: Work, requestId: string): Promise<Outcome> => {
  const { beneficiary, policyRevision, ...request } = await lockRequestAndBeneficiary(work, requestId);
  if (request.status !== 'queued' || request.expiresAt.getTime() <= work.now.getTime()) return 'gone';
  const { entitlement, system } = await findEntitlement(work.tx, request.entitlementId);
  const d: GrantDecision = { request, beneficiary, entitlement, system, policy: await loadAppliedPolicyAt(work.tx, policyRevision),
    approverId: await lastApprover(work, request.id) };
  const { grantId } = await issueGrant(work, d, { queue: true });
  if (grantId === null) return 'waiting';
  work.record({ action: 'request.approved', subject: { type: 'request', id: request.id }, identityId: request.beneficiaryId,
    systemId: system.id, before: { status: 'queued' }, after: { status: 'approved', grantId }, reason: `${entitlement.key} came free` });
  await recordTurn(work, { requestId: request.id, grantId, beneficiaryId: beneficiary.id, systemId: system.id, entitlement });
  return 'given';
};

/** The holder the account came free from: the grant of it that ended last (checked in, expired or revoked). */
const previousHolder = async (work: Work, entitlementId: string) => {
  const [last] = await work.tx.select({ handle: identities.handle, grant: grants.id, status: grants.status, endedAt: grants.endedAt })
    .from(grants).innerJoin(identities, eq(identities.id, grants.identityId))
    .where(and(eq(grants.entitlementId, entitlementId), inArray(grants.status, ['expired', 'revoked']), isNotNull(grants.endedAt)))
    .orderBy(desc(grants.endedAt)).limit(1);
  return last ? { handle: last.handle, grant: last.grant, ended: last.status, at: last.endedAt } : null;
};

/**
 * The person's turn, in the audit log with the hand-over itself: the mail and webhook outboxes are
 * filled from this event (`shared_account.turn`), each keyed by its sequence number, so the turn is
 * told once whatever is retried. Only a request still queued gets here, under its row lock, so two
 * passes never both record it.
 */
const recordTurn = async (work: Work, t: { requestId: string; grantId: string; beneficiaryId: string; systemId: string;
  entitlement: { id: string; key: string } }) => {
  const [grant] = await work.tx.select({ startsAt: grants.startsAt, endsAt: grants.endsAt }).from(grants).where(eq(grants.id, t.grantId));
  const [waiting] = await work.tx.select({ n: count() }).from(accessRequests)
    .where(and(eq(accessRequests.entitlementId, t.entitlement.id), eq(accessRequests.status, 'queued'), gt(accessRequests.expiresAt, work.now)));
  work.record({ action: 'shared_account.handed_over', subject: { type: 'grant', id: t.grantId }, identityId: t.beneficiaryId, systemId: t.systemId,
    after: { entitlement: t.entitlement.key, requestId: t.requestId, startsAt: grant?.startsAt, endsAt: grant?.endsAt,
      previousHolder: await previousHolder(work, t.entitlement.id), stillWaiting: waiting?.n ?? 0 } });
};

/** Ends a queued request that can no longer be given, saying which rule refused it; the next in line is then tried. */
export const lapseQueuedCheckOut = async (work: Work, requestId: string, refusal: TenureError): Promise<void> => {
  const { beneficiary, ...request } = await lockRequestAndBeneficiary(work, requestId);
  if (request.status !== 'queued') return;
  const reason = `not given when the account came free: ${refusal.message}`;
  await work.tx.update(accessRequests).set({ status: 'expired', decisionReason: reason }).where(eq(accessRequests.id, request.id));
  work.record({ action: 'request.expired', subject: { type: 'request', id: request.id }, identityId: beneficiary.id,
    before: { status: 'queued' }, after: { status: 'expired', code: refusal.code }, reason });
};
