import { and, asc, eq, inArray, isNull, lte, or, sql } from 'drizzle-orm';
import type { AuditInput } from '../audit/event-types.js';
import { inTransaction, type Context, type Work } from '../work/context.js';
import { endEngagementWithin } from '../operations/lib/ending/engagement-end.js';
import { endDueVendors } from './vendors.js';
import { giveFreedCheckOuts } from './check-out-queue.js';
import { rawRows } from '../store/database.js';
import { accessRequests, engagements, identities, requestStages } from '../store/schema.js';

export interface TickResult {
  grantsActivated: number; grantsExpired: number; requestsExpired: number; engagementsEnded: number; vendorsEnded: number;
  /** Shared accounts handed to the next in their line (jobs/check-out-queue.ts). */
  checkOutsGiven: number;
}

interface DueGrant { id: string; identity_id: string; system_id: string }

/**
 * Ends (or starts) a batch of grants whose time has come. No ORDER BY: everything selected is due
 * anyway, and sorting every due row once per batch made a large backlog quadratic. SKIP LOCKED lets several workers share the
 * work without waiting on each other or taking the same grant twice; rows a user is revoking right
 * now are skipped and, if still due, picked up by the next pass.
 */
const moveDueGrants = async (work: Work, kind: 'expire' | 'activate', limit: number): Promise<number> => {
  const now = work.now.toISOString();
  const due = kind === 'expire'
    ? sql`SELECT id FROM grants WHERE status IN ('active','scheduled') AND ends_at <= ${now} LIMIT ${limit} FOR UPDATE SKIP LOCKED`
    : sql`SELECT id FROM grants WHERE status = 'scheduled' AND starts_at <= ${now} AND (ends_at IS NULL OR ends_at > ${now}) LIMIT ${limit} FOR UPDATE SKIP LOCKED`;
  const update = kind === 'expire'
    ? sql`UPDATE grants g SET status = 'expired', ended_at = ${now}, end_reason = 'window ended'
          FROM entitlements e, (${due}) d WHERE g.id = d.id AND e.id = g.entitlement_id
          RETURNING g.id, g.identity_id, e.system_id`
    : sql`UPDATE grants g SET status = 'active' FROM entitlements e, (${due}) d
          WHERE g.id = d.id AND e.id = g.entitlement_id RETURNING g.id, g.identity_id, e.system_id`;
  const rows = await rawRows<DueGrant>(work.tx, update);
  for (const row of rows) {
    const event: AuditInput = kind === 'expire'
      ? { action: 'grant.expired', subject: { type: 'grant', id: row.id }, identityId: row.identity_id, systemId: row.system_id,
        after: { status: 'expired' }, reason: 'window ended' }
      : { action: 'grant.activated', subject: { type: 'grant', id: row.id }, identityId: row.identity_id, systemId: row.system_id,
        before: { status: 'scheduled' }, after: { status: 'active' } };
    work.record(event);
  }
  return rows.length;
};

const UNDECIDED = 'no decision in time';
const LAPSED_IN_LINE = 'the shared account did not come free in time';

/**
 * A request pending too long, or whose explicit window has already passed, expires and can never be
 * approved. One for a length of time waits its whole pending time: its clock starts at approval. A
 * check-out queued for a shared account waits in line until that same time, no longer.
 */
const expireDueRequests = async (work: Work, limit: number): Promise<number> => {
  const windowOver = and(isNull(accessRequests.durationMs), lte(accessRequests.endsAt, work.now));
  const due = await work.tx.select().from(accessRequests)
    .where(or(and(eq(accessRequests.status, 'pending'), or(lte(accessRequests.expiresAt, work.now), windowOver)),
      and(eq(accessRequests.status, 'queued'), lte(accessRequests.expiresAt, work.now))))
    .limit(limit).for('update', { skipLocked: true });
  if (due.length === 0) return 0;
  const ids = due.map((r) => r.id);
  await work.tx.update(accessRequests).set({ status: 'expired', decidedAt: work.now,
    decisionReason: sql`CASE WHEN ${accessRequests.status} = 'queued' THEN ${LAPSED_IN_LINE} ELSE ${UNDECIDED} END` })
    .where(inArray(accessRequests.id, ids));
  await work.tx.update(requestStages).set({ status: 'expired' })
    .where(and(inArray(requestStages.requestId, ids), eq(requestStages.status, 'pending')));
  for (const r of due) {
    work.record({ action: 'request.expired', subject: { type: 'request', id: r.id }, identityId: r.beneficiaryId,
      before: { status: r.status }, after: { status: 'expired' }, reason: r.status === 'queued' ? LAPSED_IN_LINE : UNDECIDED });
  }
  return due.length;
};

/**
 * In the lock order (see inTransaction): the people first, in id order and skipping anyone being
 * decided on or suspended right now (the next pass ends theirs), then their due engagements.
 */
const endDueEngagements = async (work: Work, limit: number): Promise<number> => {
  const dueOwners = work.tx.select({ id: engagements.identityId }).from(engagements)
    .where(and(eq(engagements.status, 'active'), lte(engagements.endsAt, work.now)));
  const people = await work.tx.select({ id: identities.id }).from(identities).where(inArray(identities.id, dueOwners))
    .orderBy(asc(identities.id)).limit(limit).for('update', { skipLocked: true });
  if (people.length === 0) return 0;
  const due = await work.tx.select().from(engagements)
    .where(and(inArray(engagements.identityId, people.map((p) => p.id)), eq(engagements.status, 'active'), lte(engagements.endsAt, work.now)))
    .for('update');
  for (const engagement of due) await endEngagementWithin(work, engagement, 'engagement end date reached');
  return due.length;
};

/** Repeats one batch in its own transaction until nothing is due, so a crash loses at most one uncommitted batch. */
const drain = async (ctx: Context, step: (work: Work) => Promise<number>): Promise<number> => {
  let total = 0;
  for (;;) {
    const moved = await inTransaction(ctx, step);
    total += moved;
    if (moved === 0) return total;
  }
};

/** One pass of the lifecycle: everything due at the clock's now. Safe to run in several processes at once. */
export const runLifecycleTick = async (ctx: Context, options: { batchSize?: number } = {}): Promise<TickResult> => {
  const batch = options.batchSize ?? 5000;
  // Two drains at once on a server: one batch's UPDATE overlaps the other's audit append (which the
  // audit head lock serialises). PGlite has one connection, so there one drain does it all.
  const parallel = ctx.store.backend === 'postgres' ? 2 : 1;
  const expired = await Promise.all(Array.from({ length: parallel }, () => drain(ctx, (w) => moveDueGrants(w, 'expire', batch))));
  const grantsExpired = expired.reduce((sum, n) => sum + n, 0);
  const grantsActivated = await drain(ctx, (w) => moveDueGrants(w, 'activate', batch));
  const requestsExpired = await drain(ctx, (w) => expireDueRequests(w, batch));
  const engagementsEnded = await drain(ctx, (w) => endDueEngagements(w, 100));
  // After engagements: what is left of a due vendor is its operated service accounts (and any engagement skipped above).
  const vendorsEnded = await endDueVendors(ctx);
  // Last: what the steps above ended may have freed a shared account.
  const checkOutsGiven = await giveFreedCheckOuts(ctx);
  return { grantsActivated, grantsExpired, requestsExpired, engagementsEnded, vendorsEnded, checkOutsGiven };
};

/**
 * The next moment the lifecycle has work: the earliest end of a live grant, start of a scheduled one,
 * end of an active engagement, a vendor's contract end not yet applied (each an index probe), or a
 * check-out queued for a shared account nobody holds any more (a check-in); null when nothing is scheduled at all.
 */
export const nextLifecycleDue = async (ctx: Context): Promise<Date | null> => {
  const [row] = await rawRows<{ due: Date | string | null }>(ctx.store.db, sql`
    SELECT least((SELECT min(ends_at) FROM grants WHERE status IN ('scheduled','active')),
                 (SELECT min(starts_at) FROM grants WHERE status = 'scheduled'),
                 (SELECT min(ends_at) FROM engagements WHERE status = 'active'),
                 (SELECT min(contract_end) FROM vendors WHERE end_applied_at IS NULL),
                 (SELECT min(r.decided_at) FROM access_requests r WHERE r.status = 'queued' AND NOT EXISTS (
                    SELECT 1 FROM grants g WHERE g.entitlement_id = r.entitlement_id AND g.status IN ('scheduled','active')))) AS due`);
  return row?.due ? new Date(row.due) : null;
};

/**
 * How long the lifecycle loop sleeps: until the next due moment (a few ms after, so it is due by
 * then), at most `intervalMs`. Work still due right after a pass is held by someone (a revocation in
 * progress) or failing: a second's pause then, not a spin.
 */
export const delayUntilDue = async (ctx: Context, intervalMs: number): Promise<number> => {
  const due = await nextLifecycleDue(ctx);
  if (!due) return intervalMs;
  const wait = due.getTime() - ctx.clock.now().getTime();
  return wait <= 0 ? Math.min(1000, intervalMs) : Math.min(wait + 5, intervalMs);
};
