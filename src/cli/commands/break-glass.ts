import type { Command } from 'commander';
import type { Runtime } from '../runtime.js';

type Run = (action: (...args: never[]) => Promise<void>) => (...args: unknown[]) => Promise<void>;

/** Emergency access for oneself, and its review after use. */
export const breakGlassCommands = (program: Command, rt: Runtime, run: Run): void => {
  program.command('breakglass').description('take emergency access now, for yourself: reviewed after use by someone else')
    .requiredOption('--entitlement <key>', 'a break-glass capable entitlement').requiredOption('--incident <ref>', 'the incident reference')
    .requiredOption('--reason <text>', 'what you must do').option('--ttl <duration>', 'how long (at most the policy\'s maximum, never over 4h)')
    .action(run(async (o: { entitlement: string; incident: string; reason: string; ttl?: string }) => {
      rt.print(await rt.api().startBreakGlass({ entitlement: o.entitlement, incident: o.incident, reason: o.reason, ...(o.ttl ? { ttl: o.ttl } : {}) }));
    }));
  program.command('breakglass-reviews').description('break-glass reviews with what happened during each window')
    .option('--status <status>', 'pending | appropriate | inappropriate')
    .action(run(async (o: { status?: string }) => {
      const rows = await rt.api().listBreakGlassReviews({ ...(o.status ? { status: o.status as 'pending' } : {}) });
      rt.print(rt.output.json ? rows : rows.map((r) => ({
        id: r.id, identity: r.identity, entitlement: r.entitlement, incident: r.incident, reviewer: r.reviewer, due: r.dueAt,
        status: r.overdue ? 'overdue' : r.status, events: r.evidence.auditEvents.length, sessions: r.evidence.proxySessions.length,
        'on shared accounts': r.evidence.proxySessions.filter((s) => s.sharedAccount).length,
        checks: r.evidence.accessEvents.length,
      })));
    }));
  program.command('breakglass-review <review>').description('decide a break-glass review (inappropriate ends the access and opens a finding)')
    .requiredOption('--outcome <outcome>', 'appropriate | inappropriate').requiredOption('--comment <text>')
    .action(run(async (review: string, o: { outcome: string; comment: string }) => {
      rt.print(await rt.api().reviewBreakGlass({ review, outcome: o.outcome as 'appropriate', comment: o.comment }));
    }));
};
