import { and, asc, desc, eq, gte, lt, or, type SQL } from 'drizzle-orm';
import { z } from 'zod';
import { searchAuditEvents } from '../audit/search.js';
import type { Executor } from '../store/database.js';
import { handlesById } from '../store/queries/identities.js';
import { entitlements, grants } from '../store/schema.js';
import { breakGlassReviews } from '../store/schema-break-glass.js';
import { BREAK_GLASS_REVIEW_STATUSES, windowEvidenceEnd } from '../domain/break-glass.js';
import { accessEvents } from '../store/schema-service.js';
import { findings } from '../store/schema-provisioning.js';
import { loadActor, may } from './authorize.js';
import type { Context } from '../work/context.js';
import { parseInput } from './input.js';
import { sessionsDuring } from './lib/proxy-sessions/views.js';

export const Input = z.object({
  status: z.enum(BREAK_GLASS_REVIEW_STATUSES).optional(),
  limit: z.number().int().min(1).max(500).default(50),
}).strict();

const EVIDENCE_LIMIT = 500;

/** What the user did during the window: their audit events, and what the decision point answered them. */
const evidenceOf = async (exec: Executor, review: typeof breakGlassReviews.$inferSelect, now: Date) => {
  const to = windowEvidenceEnd(review.endsAt, now);
  const events = await searchAuditEvents(exec, { identityId: review.identityId, from: review.startsAt, to, limit: EVIDENCE_LIMIT });
  const access = await exec.select({ at: accessEvents.at, entitlement: accessEvents.entitlementKey, system: accessEvents.systemKey,
    action: accessEvents.action, allowed: accessEvents.allowed, reason: accessEvents.reason })
    .from(accessEvents)
    .where(and(eq(accessEvents.identityId, review.identityId), gte(accessEvents.at, review.startsAt), lt(accessEvents.at, to)))
    .orderBy(asc(accessEvents.at)).limit(EVIDENCE_LIMIT);
  return {
    proxySessions: await sessionsDuring(exec, review.identityId, review.startsAt, to, EVIDENCE_LIMIT),
    auditEvents: events.map((e) => ({ seq: e.seq, at: e.at, action: e.action, subject: e.subject, reason: e.reason, ticket: e.ticket })),
    accessEvents: access,
  };
};

/** The separation-of-duties conflict this use broke into, if any: the reviewer must see it first. */
const sodConflictOf = async (exec: Executor, grantId: string): Promise<string | null> => {
  const [found] = await exec.select({ summary: findings.summary }).from(findings)
    .where(and(eq(findings.kind, 'sod_conflict'), eq(findings.grantId, grantId)));
  return found?.summary ?? null;
};

/**
 * Break-glass reviews, newest first, each with the evidence a reviewer needs: the incident, the
 * reason, the window, and what happened in it. A reviewer sees the reviews assigned to them, a
 * user their own; security and auditors see all.
 */
export const listBreakGlassReviews = async (ctx: Context, input: z.input<typeof Input> = {}) => {
  const data = parseInput(Input, input);
  const exec = ctx.store.db;
  const acting = await loadActor(exec, ctx.actor.id);
  const me = acting.identity.id;
  const filters: (SQL | undefined)[] = [data.status ? eq(breakGlassReviews.status, data.status) : undefined];
  if (!may(acting, 'breakglass.read_all')) filters.push(or(eq(breakGlassReviews.reviewerId, me), eq(breakGlassReviews.identityId, me)));
  const rows = await exec.select({ review: breakGlassReviews, entitlement: entitlements.key }).from(breakGlassReviews)
    .innerJoin(grants, eq(grants.id, breakGlassReviews.grantId))
    .innerJoin(entitlements, eq(entitlements.id, grants.entitlementId))
    .where(and(...filters)).orderBy(desc(breakGlassReviews.createdAt)).limit(data.limit);
  const handles = await handlesById(exec, rows.flatMap((r) => [r.review.identityId, r.review.reviewerId]));
  const now = ctx.clock.now();
  return Promise.all(rows.map(async ({ review: r, entitlement }) => ({
    id: r.id, grantId: r.grantId, identity: handles.get(r.identityId) ?? r.identityId, reviewer: handles.get(r.reviewerId) ?? r.reviewerId,
    entitlement, incident: r.incident, reason: r.reason, startsAt: r.startsAt, endsAt: r.endsAt, dueAt: r.dueAt, overdue: r.status === 'pending' && r.dueAt < now,
    status: r.status, decidedAt: r.decidedAt, comment: r.comment, evidence: await evidenceOf(exec, r, now),
    sodConflict: await sodConflictOf(exec, r.grantId),
  })));
};
