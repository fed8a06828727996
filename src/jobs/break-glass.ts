/**
 * Overdue break-glass reviews escalate: each becomes a finding for security (no owner: the whole
 * security role sees it), and security may then decide the review in the reviewer's place.
 */
import { and, eq, lt } from 'drizzle-orm';
import { inTransaction, type Context } from '../work/context.js';
import { openFinding } from '../operations/lib/provisioning/findings.js';
import { handlesById } from '../store/queries/identities.js';
import { breakGlassReviews } from '../store/schema-break-glass.js';

export const escalateOverdueBreakGlassReviews = (ctx: Context): Promise<number> => inTransaction(ctx, async (work) => {
  const overdue = await work.tx.select().from(breakGlassReviews)
    .where(and(eq(breakGlassReviews.status, 'pending'), lt(breakGlassReviews.dueAt, work.now)));
  const handles = await handlesById(work.tx, overdue.flatMap((r) => [r.identityId, r.reviewerId]));
  let opened = 0;
  for (const review of overdue) {
    const result = await openFinding(work, {
      kind: 'breakglass_review_overdue', key: `breakglass_review_overdue:${review.id}`, identityId: review.identityId, grantId: review.grantId,
      dueAt: review.dueAt,
      summary: `the review of ${handles.get(review.identityId)}'s break-glass access (incident ${review.incident}) by ${handles.get(review.reviewerId)} was due ${review.dueAt.toISOString()}`,
      evidence: { reviewId: review.id, reviewer: handles.get(review.reviewerId), incident: review.incident, dueAt: review.dueAt },
    });
    if (result.opened) opened += 1;
  }
  return opened;
});
