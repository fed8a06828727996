import { eq } from 'drizzle-orm';
import { z } from 'zod';
import { REVIEW_OUTCOMES, windowEvidenceEnd } from '../domain/break-glass.js';
import { TenureError } from '../domain/errors.js';
import { isUuid } from '../domain/ids.js';
import { grants } from '../store/schema.js';
import { breakGlassReviews } from '../store/schema-break-glass.js';
import { loadActor, may, requireMayAct, requirePerson } from './authorize.js';
import { inTransaction, type Context } from '../work/context.js';
import { parseInput, text } from './input.js';
import { revokeLiveGrants } from './lib/ending/end-access.js';
import { openFinding, resolveFindingByKey } from './lib/provisioning/findings.js';
import { partiesOfIdentities, refuseParties } from './lib/approval/parties.js';
import { sessionsDuring } from './lib/proxy-sessions/views.js';

export const Input = z.object({
  review: z.string().min(1, 'must be a break-glass review id'),
  outcome: z.enum(REVIEW_OUTCOMES),
  comment: text(2000),
}).strict();

/**
 * The post-use review of a break-glass access, with consequences: `inappropriate` ends the access
 * if it still runs and opens a critical finding for security. Self-review is refused before any
 * other check, then anyone but a person, then anyone but the named reviewer (security may decide
 * in their place: that is where an overdue review escalates). The row is locked so two reviewers
 * deciding at once cannot both succeed.
 */
export const reviewBreakGlass = async (ctx: Context, input: z.input<typeof Input>) => {
  const data = parseInput(Input, input);
  return inTransaction(ctx, async (work) => {
    const acting = await loadActor(work.tx, work.actor.id);
    const missing = () => new TenureError('breakglass.review_not_found', `no break-glass review '${data.review}'`, { field: 'review' });
    if (!isUuid(data.review)) throw missing();
    const [review] = await work.tx.select().from(breakGlassReviews).where(eq(breakGlassReviews.id, data.review)).for('update');
    if (!review) throw missing();
    const me = acting.identity.id;
    if (review.identityId === me) throw new TenureError('breakglass.self_review_forbidden', 'nobody reviews their own break-glass access');
    refuseParties(work, await partiesOfIdentities(work.tx, [review.identityId]), 'breakglass.self_review_forbidden',
      'nobody reviews the break-glass access of an identity they created or own');
    requirePerson(acting, 'review break-glass access');
    requireMayAct(acting, { allowed: review.reviewerId === me || may(acting, 'breakglass.review_any'), readAll: 'breakglass.read_all',
      notFound: missing, refusal: 'only the named reviewer, or security, decides this review' });
    if (review.status !== 'pending') throw new TenureError('breakglass.already_reviewed', `the review is already ${review.status}`, { field: 'review' });
    await work.tx.update(breakGlassReviews).set({ status: data.outcome, decidedBy: me, decidedAt: work.now, comment: data.comment })
      .where(eq(breakGlassReviews.id, review.id));
    await resolveFindingByKey(work, `breakglass_review_overdue:${review.id}`, `reviewed by ${acting.identity.handle}: ${data.outcome}`);
    let ended = 0;
    if (data.outcome === 'inappropriate') {
      ended = (await revokeLiveGrants(work, eq(grants.id, review.grantId), `break-glass judged inappropriate: ${data.comment}`)).length;
      await openFinding(work, {
        kind: 'breakglass_misuse', key: `breakglass_misuse:${review.id}`, identityId: review.identityId, grantId: review.grantId,
        summary: `break-glass use for incident ${review.incident} judged inappropriate by ${acting.identity.handle}: ${data.comment}`,
        evidence: { reviewId: review.id, incident: review.incident, reason: review.reason, startsAt: review.startsAt, endsAt: review.endsAt,
          reviewer: me, accessEnded: ended > 0 },
      });
    }
    // The recorded sessions the reviewer had before them, with their verdicts, go into the chain with the decision.
    const sessions = (await sessionsDuring(work.tx, review.identityId, review.startsAt, windowEvidenceEnd(review.endsAt, work.now), 500))
      .map((s) => ({ id: s.id, statements: s.statements, recordingSha256: s.auditedSha256, verified: s.verified,
        ...(s.sharedAccount ? { sharedAccount: s.account } : {}) }));
    work.record({ action: 'breakglass.reviewed', subject: { type: 'grant', id: review.grantId }, identityId: review.identityId,
      reason: data.comment, ticket: review.incident, after: { outcome: data.outcome, reviewId: review.id, accessEnded: ended > 0, sessions } });
    return { id: review.id, status: data.outcome, accessEnded: ended > 0 };
  });
};
