import { and, eq, inArray, sql, type SQL } from 'drizzle-orm';
import { accessRequests, entitlements, grants, requestStages } from '../../../store/schema.js';
import type { Work } from '../../../work/context.js';

type GrantRow = typeof grants.$inferSelect;
type RequestRow = typeof accessRequests.$inferSelect;

/** Why a row ended: one reason for them all, or one per row (a chunk of HR leavers, each ended by their own event). */
export type Why<Row> = string | ((row: Row) => string);
export const reasonFor = <Row>(why: Why<Row>, row: Row): string => (typeof why === 'string' ? why : why(row));

/** The rows' ids with their reasons, as one JSON parameter for an UPDATE … FROM json_to_recordset (one statement whatever the reasons). */
const reasonsJson = <Row extends { id: string }>(rows: Row[], why: Why<Row>): string =>
  JSON.stringify(rows.map((row) => ({ id: row.id, reason: reasonFor(why, row) })));

/**
 * Ends the live grants matching `where` (revoked, with who and why), locking them first so a worker
 * expiring the same grants at the same moment cannot end one twice.
 */
export const revokeLiveGrants = async (work: Work, where: SQL, why: Why<GrantRow>): Promise<GrantRow[]> => {
  const live = await work.tx.select({ grant: grants, systemId: entitlements.systemId }).from(grants)
    .innerJoin(entitlements, eq(grants.entitlementId, entitlements.id))
    .where(and(where, inArray(grants.status, ['scheduled', 'active'])))
    .for('update', { of: grants });
  if (live.length > 0) {
    await work.tx.execute(sql`UPDATE grants g SET status = 'revoked', ended_at = ${work.now.toISOString()}::timestamptz,
      ended_by = ${work.actor.id ?? null}::uuid, end_reason = r.reason
      FROM json_to_recordset(${reasonsJson(live.map((l) => l.grant), why)}::json) AS r(id uuid, reason text) WHERE g.id = r.id`);
  }
  for (const { grant, systemId } of live) {
    work.record({
      action: 'grant.revoked', subject: { type: 'grant', id: grant.id }, identityId: grant.identityId, systemId,
      before: { status: grant.status }, after: { status: 'revoked' }, reason: reasonFor(why, grant),
    });
  }
  return live.map((l) => l.grant);
};

/** Cancels pending requests matching `where`; a cancelled request can never turn into a grant. Returns those cancelled. */
export const cancelPendingRequests = async (work: Work, where: SQL, why: Why<RequestRow>): Promise<RequestRow[]> => {
  const pending = await work.tx.select().from(accessRequests)
    .where(and(where, inArray(accessRequests.status, ['pending', 'queued']))).for('update');
  if (pending.length === 0) return [];
  await work.tx.execute(sql`UPDATE access_requests a SET status = 'cancelled', decided_at = ${work.now.toISOString()}::timestamptz,
    decision_reason = r.reason FROM json_to_recordset(${reasonsJson(pending, why)}::json) AS r(id uuid, reason text) WHERE a.id = r.id`);
  await work.tx.update(requestStages).set({ status: 'cancelled' })
    .where(and(inArray(requestStages.requestId, pending.map((r) => r.id)), eq(requestStages.status, 'pending')));
  for (const request of pending) {
    work.record({
      action: 'request.cancelled', subject: { type: 'request', id: request.id },
      identityId: request.beneficiaryId, before: { status: request.status }, after: { status: 'cancelled' }, reason: reasonFor(why, request),
    });
  }
  return pending;
};
