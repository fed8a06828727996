import type { Command } from 'commander';
import { TenureError } from '../../domain/errors.js';
import { CAMPAIGN_SCOPES, REVIEWER_RULES } from '../../domain/reviews.js';
import type { Runtime } from '../runtime.js';

type Run = (action: (...args: never[]) => Promise<void>) => (...args: unknown[]) => Promise<void>;

/** `--due 14d` is a duration from now; anything else is taken as a date. */
const dueOf = (due: string) => (/^\d+(\.\d+)?\s*(ms|s|m|h|d|w|y)$/i.test(due.trim()) ? { dueIn: due } : { due });

type DecideOptions = { keep?: boolean; revoke?: boolean; shorten?: string; comment: string };

const decisionOf = (o: DecideOptions) => {
  const chosen = [o.keep && 'keep', o.revoke && 'revoke', o.shorten !== undefined && 'shorten'].filter(Boolean);
  if (chosen.length !== 1) throw new TenureError('input.invalid', 'decision: give exactly one of --keep, --revoke or --shorten DATE', { field: 'decision' });
  return o.shorten !== undefined ? { decision: 'shorten' as const, endsAt: o.shorten } : { decision: chosen[0] as 'keep' | 'revoke' };
};

/** Access review campaigns: open one, see what is asked of you, decide. */
export const reviewCommands = (program: Command, rt: Runtime, run: Run): void => {
  const review = program.command('review').description('access review campaigns: certify, shorten or revoke grants, with evidence');
  review.command('campaign').description('open an ad hoc campaign (nothing is created when the scope has no grant to review)')
    .requiredOption('--scope <scope>', CAMPAIGN_SCOPES.join(' | ')).option('--system <key>', 'with --scope system')
    .option('--engagement <id>', 'with --scope engagement').requiredOption('--reviewer <rule>', REVIEWER_RULES.join(' | '))
    .requiredOption('--due <when>', 'a date (ISO 8601) or a duration from now (14d)').option('--undecided <action>', 'keep | revoke (default: by holder kind)')
    .option('--name <name>')
    .action(run(async (o: { scope: string; system?: string; engagement?: string; reviewer: string; due: string; undecided?: string; name?: string }) => {
      rt.print(await rt.api().createReviewCampaign({
        scope: o.scope as 'all', reviewer: o.reviewer as 'sponsor', ...dueOf(o.due), ...(o.system ? { system: o.system } : {}),
        ...(o.engagement ? { engagement: o.engagement } : {}), ...(o.undecided ? { undecided: o.undecided as 'keep' } : {}), ...(o.name ? { name: o.name } : {}),
      }));
    }));
  review.command('list').description('the items you are asked to decide, with their evidence')
    .option('--all', 'every item (IAM, security, auditors)').option('--status <status>', 'pending | kept | revoked | shortened | defaulted_keep | defaulted_revoke | void')
    .option('--campaign <id>')
    .action(run(async (o: { all?: boolean; status?: string; campaign?: string }) => {
      const rows = await rt.api().listReviewItems({ view: o.all ? 'all' : 'mine', ...(o.status ? { status: o.status as 'pending' } : {}),
        ...(o.campaign ? { campaign: o.campaign } : {}) });
      rt.print(rt.output.json ? rows : rows.map((r) => ({
        id: r.id, holder: r.holder, entitlement: r.evidence.entitlement, granted: r.evidence.grantedAt.slice(0, 10), ends: r.evidence.endsAt?.slice(0, 10) ?? '-',
        approvedBy: r.evidence.approvals.map((a) => a.approver).join(', ') || '-', lastUse: r.evidence.lastUsedAt?.slice(0, 10) ?? 'never',
        engagementEnds: r.evidence.engagement?.endsAt.slice(0, 10) ?? '-', reviewer: r.reviewer, due: r.dueAt,
        status: r.overdue ? 'overdue' : r.status, ifUndecided: r.undecided,
      })));
    }));
  review.command('decide <item>').description('keep, revoke or shorten the grant under review; a comment is required')
    .option('--keep').option('--revoke').option('--shorten <date>', 'the new, earlier end').requiredOption('--comment <text>')
    .action(run(async (item: string, o: DecideOptions) => {
      rt.print(await rt.api().decideReviewItem({ item, comment: o.comment, ...decisionOf(o) }));
    }));

  // The engagement group is defined with the other people commands; renewal belongs with reviews, so it joins that group here.
  const engagement = program.commands.find((c) => c.name() === 'engagement') ?? program.command('engagement');
  engagement.command('renew <engagement>').description('ask for a later end: the sponsor revalidates every live grant first')
    .requiredOption('--until <date>', 'the new end').requiredOption('--reason <text>')
    .action(run(async (id: string, o: { until: string; reason: string }) => {
      rt.print(await rt.api().renewEngagement({ engagement: id, endsAt: o.until, reason: o.reason }));
    }));
};
