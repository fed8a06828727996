import { z } from 'zod';
import { TenureError } from '../domain/errors.js';
import { CAMPAIGN_SCOPES, REVIEWER_RULES, UNDECIDED_ACTIONS } from '../domain/reviews.js';
import { authorize } from './authorize.js';
import { inTransaction, type Context } from '../work/context.js';
import { duration, instant, parseInput, ref, text } from './input.js';
import { openCampaign } from './lib/reviews/campaigns.js';
import { scopeCondition } from './lib/reviews/scope.js';

export const Input = z.object({
  name: text(200).optional(),
  scope: z.enum(CAMPAIGN_SCOPES).describe('which grants: non_employee, privileged, system (name it), engagement (name it), all'),
  system: ref.optional().describe('the system\'s key, with scope system'),
  engagement: ref.optional().describe('the engagement id, with scope engagement'),
  reviewer: z.enum(REVIEWER_RULES).describe('who reviews each grant; the system\'s owners stand in when that person cannot'),
  due: instant.optional().describe('when undecided items get their default (or give dueIn)'),
  dueIn: duration.optional().describe('the same, from now: 14d'),
  undecided: z.enum(UNDECIDED_ACTIONS).optional().describe('what an undecided item gets; default: revoke for non-employees and service accounts, keep for employees'),
}).strict();

/** Exactly one of due and dueIn, in the future. */
const dueAtOf = (data: z.infer<typeof Input>, now: Date): Date => {
  if ((data.due === undefined) === (data.dueIn === undefined)) {
    throw new TenureError('input.invalid', 'due: give either due (a date) or dueIn (a duration)', { field: 'due' });
  }
  const dueAt = data.due ?? new Date(now.getTime() + data.dueIn!);
  if (dueAt.getTime() <= now.getTime()) throw new TenureError('input.invalid', 'due: must be in the future', { field: 'due' });
  return dueAt;
};

/**
 * `tenure review campaign`: an ad hoc certification of the grants a scope names, each asked of the
 * reviewer the rule names (never the holder). A scope with nothing to review creates nothing.
 */
export const createReviewCampaign = async (ctx: Context, input: z.input<typeof Input>) => {
  const data = parseInput(Input, input);
  return inTransaction(ctx, async (work) => {
    await authorize(work, 'review.manage');
    const dueAt = dueAtOf(data, work.now);
    const asked = { grants: data.scope, system: data.system, engagement: data.engagement };
    const where = await scopeCondition(work.tx, asked);
    const target = data.system ?? data.engagement;
    const opened = await openCampaign(work, {
      name: data.name ?? `${data.scope.replace('_', '-')}${target ? ` ${target}` : ''} review by ${data.reviewer.replace('_', ' ')}`,
      trigger: 'ad_hoc', scope: { ...asked, reviewer: data.reviewer, undecided: data.undecided ?? null }, grants: where,
      reviewer: data.reviewer, dueAt, undecided: data.undecided ?? null,
    });
    return { ...opened, created: opened.campaignId !== null, dueAt };
  });
};
