import { z } from 'zod';
import { BREAK_GLASS_REVIEW_STATUSES } from '../../domain/break-glass.js';
import { listBreakGlassReviews } from '../../operations/list-break-glass-reviews.js';
import { reviewBreakGlass, Input as ReviewInput } from '../../operations/review-break-glass.js';
import { startBreakGlass, Input as StartInput } from '../../operations/start-break-glass.js';
import { contextOf } from '../access.js';
import { idParam, isoDate, limitQuery, optionalDate, problems } from '../schemas.js';
import { SessionView } from './proxy-sessions.js';
import { typed, type RouteModule } from './route.js';

const Started = z.object({
  grantId: z.string(), requestId: z.string(), reviewId: z.string(), entitlement: z.string(), startsAt: isoDate, endsAt: isoDate,
  reviewerId: z.string(), reviewDueAt: isoDate,
  sodConflict: z.string().nullable().describe('a separation-of-duties conflict the emergency went through: let through, and a critical finding for security'),
});
const ReviewView = z.object({
  id: z.string(), grantId: z.string(), identity: z.string(), reviewer: z.string(), entitlement: z.string(), incident: z.string(),
  reason: z.string(), startsAt: isoDate, endsAt: isoDate, dueAt: isoDate, overdue: z.boolean(),
  status: z.enum(BREAK_GLASS_REVIEW_STATUSES), decidedAt: optionalDate, comment: z.string().nullable(),
  sodConflict: z.string().nullable().describe('the separation-of-duties conflict this use broke into, if any: look at it first'),
  evidence: z.object({
    proxySessions: z.array(SessionView).describe('the user\'s sessions through the access proxy that overlap the window, each verified against the audit chain: '
      + 'those on a shared account first (sharedAccount: true, with the account and the recording\'s audited SHA-256), then the others, each group oldest first'),
    auditEvents: z.array(z.object({ seq: z.number(), at: z.string(), action: z.string(), subject: z.object({ type: z.string(), id: z.string() }),
      reason: z.string().nullable(), ticket: z.string().nullable() })),
    accessEvents: z.array(z.object({ at: isoDate, entitlement: z.string().nullable(), system: z.string().nullable(), action: z.string().nullable(),
      allowed: z.boolean(), reason: z.string() })),
  }).describe('what the user did during the window: audit events, and the decision point\'s answers'),
});
const ReviewsQuery = z.object({ status: z.enum(BREAK_GLASS_REVIEW_STATUSES).optional(), limit: limitQuery(500) }).strict();

/** Break-glass: emergency access for oneself, and its review after use; see README "Break-glass". */
export const breakGlassRoutes: RouteModule = (app, deps) => {
  const r = typed(app);
  const ctx = (request: Parameters<typeof contextOf>[0]) => contextOf(request, deps.store, deps.clock);
  r.post('/v1/breakglass', {
    config: { access: { scope: 'write', permission: 'self' } },
    schema: { tags: ['break-glass'], summary: 'Take break-glass access now (allowed users, capable entitlements, incident required, at most 4 h)',
      body: StartInput, response: { 201: Started, ...problems } },
  }, async (request, reply) => reply.code(201).send(await startBreakGlass(ctx(request), request.body)));
  r.get('/v1/breakglass/reviews', {
    config: { access: { scope: 'read', permission: 'self' } },
    schema: { tags: ['break-glass'], summary: 'Break-glass reviews with their evidence (mine to decide or about me; all for security and auditors)',
      querystring: ReviewsQuery, response: { 200: z.object({ items: z.array(ReviewView) }), ...problems } },
  }, async (request) => ({ items: await listBreakGlassReviews(ctx(request), request.query) }));
  r.post('/v1/breakglass/reviews/:review/decide', {
    config: { access: { scope: 'write', permission: 'self' } },
    schema: { tags: ['break-glass'], summary: 'Decide a review: appropriate, or inappropriate (ends the access, opens a critical finding)',
      params: idParam('review', 'break-glass review id'), body: ReviewInput.omit({ review: true }),
      response: { 200: z.object({ id: z.string(), status: z.string(), accessEnded: z.boolean() }), ...problems } },
  }, async (request) => reviewBreakGlass(ctx(request), { ...request.body, review: request.params.review }));
};
