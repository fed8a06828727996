import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { TenureError } from '../../domain/errors.js';
import { countOf } from '../../domain/plural.js';
import type { HrRunResult } from '../../operations/ingest-hr-events.js';
import type { Runtime } from '../runtime.js';

type Run = (action: (...args: never[]) => Promise<void>) => (...args: unknown[]) => Promise<void>;

/** A held batch is not a success: say so plainly, and exit non-zero so a script notices. */
const report = (rt: Runtime, result: HrRunResult): void => {
  if (rt.output.json) { rt.print(result); } else {
    const s = result.summary;
    if (result.held) {
      rt.print(`HELD by the suspension brake: this would suspend ${result.held.wouldSuspend} of ${result.held.population} active people ` +
        `(${(result.held.share * 100).toFixed(1)}%). Nothing was applied.` +
        (result.held.batchId ? ` Security confirms with: tenure hr confirm ${result.held.batchId} --reason … (or tenure hr discard)` : ''));
    } else {
      rt.print(`${result.dryRun ? 'DRY RUN, nothing changed: ' : ''}${countOf(s.received, 'event')}: ${s.applied} applied, ${s.replayed} replayed, ` +
        `${s.scheduled} scheduled, ${s.superseded} superseded, ${s.refused} refused; ${s.hired} hired, ${s.rehired} rehired, ` +
        `${countOf(s.movers, 'mover')}, ${countOf(s.leavers, 'leaver')}; birthright +${s.birthrightGranted} -${s.birthrightRevoked}; ` +
        `${countOf(s.conflicts, 'source conflict')}, ${countOf(s.reviewsOpened, 'review')} opened, ${countOf(s.late, 'late leave')}`);
      rt.print(result.changes.map((c) => ({ event: c.event, person: c.person, type: c.type, outcome: c.outcome, effects: c.effects.join('; ') })));
    }
  }
  if (result.held && !result.dryRun) process.exitCode = 3;
};

const readFile = (file: string): string => {
  try { return readFileSync(file, 'utf8'); } catch (error) {
    throw new TenureError('hr.csv_invalid', `cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`, { field: 'file' });
  }
};

/** The HR feed from the command line: import a file, and security's answer to a held batch. */
export const hrCommands = (program: Command, rt: Runtime, run: Run): void => {
  const hr = program.command('hr').description('the HR feed: joiners, movers and leavers');
  hr.command('import <file>').description('import HR events from a CSV file (columns: docs/hr-feed.md)')
    .option('--source <name>', 'the HR system the file comes from, for rows without a source column')
    .option('--dry-run', 'show what would change, change nothing')
    .action(run(async (file: string, o: { source?: string; dryRun?: boolean }) => {
      report(rt, await rt.api().importHrFile({ csv: readFile(file), ...(o.source ? { source: o.source } : {}), dryRun: o.dryRun === true }));
    }));
  hr.command('batches').description('HR batches held by the suspension brake').option('--status <status>', 'held | confirmed | discarded')
    .action(run(async (o: { status?: 'held' }) => {
      rt.print(await rt.api().listHrBatches(o.status ? { status: o.status } : {}),
        ['id', 'status', 'events', 'wouldSuspend', 'population', 'createdAt', 'decidedAt', 'reason']);
    }));
  for (const decision of ['confirm', 'discard'] as const) {
    hr.command(`${decision} <batch>`).description(decision === 'confirm' ? 'apply a held batch (security)' : 'drop a held batch (security)')
      .requiredOption('--reason <text>')
      .action(run(async (batch: string, o: { reason: string }) => report(rt, await rt.api().decideHrBatch({ batch, decision, reason: o.reason }))));
  }
  program.command('reassign <from>').description('move what a person sponsored or owned (contractors, engagements, service accounts) to another employee')
    .requiredOption('--to <handle>').requiredOption('--reason <text>')
    .action(run(async (from: string, o: { to: string; reason: string }) => {
      rt.print(await rt.api().reassignOwnership({ from, to: o.to, reason: o.reason }));
    }));
};
