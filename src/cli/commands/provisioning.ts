import type { Command } from 'commander';
import { formatDuration } from '../../domain/durations.js';
import { TenureError } from '../../domain/errors.js';
import type { Runtime } from '../runtime.js';

/** A lag as 1d8h24m; empty for none. */
const span = (ms: number | null) => (ms === null ? '' : formatDuration(ms));

type Run = (action: (...args: never[]) => Promise<void>) => (...args: unknown[]) => Promise<void>;

/** Provisioning jobs and manual tasks, the brake, reconciliation and findings (docs/connectors.md). */
export const provisioningCommands = (program: Command, rt: Runtime, run: Run): void => {
  const provisioning = program.command('provisioning').description('jobs that make grants real in target systems, and manual tasks');
  provisioning.command('list').description('provisioning jobs, newest first')
    .option('--state <state>', 'open | queued | running | failing | held | awaiting_confirmation | done | superseded | resolved')
    .option('--system <key>').option('--grant <id>')
    .action(run(async (o: { state?: string; system?: string; grant?: string }) => {
      const rows = await rt.api().listProvisioningJobs({ state: o.state as 'open', system: o.system, grant: o.grant });
      rt.print(rt.output.json ? rows : rows.map((j) => ({
        id: j.id, identity: j.identity, entitlement: j.entitlement, action: j.action, state: j.state, attempts: j.attempts,
        due: j.dueAt ?? '', error: j.lastError ?? '',
      })));
    }));
  provisioning.command('confirm <job>').description('confirm a manual task is done (technical owner, IAM or security)')
    .requiredOption('--note <text>', 'what was done, for the record')
    .action(run(async (job: string, o: { note: string }) => rt.print(await rt.api().confirmProvisioningTask({ job, note: o.note }))));
  provisioning.command('resolve <job>').description('stop a job that was handled out of band (IAM or security)')
    .requiredOption('--note <text>', 'why, for the record')
    .action(run(async (job: string, o: { note: string }) => rt.print(await rt.api().resolveProvisioningJob({ job, note: o.note }))));
  provisioning.command('release <system>').description('let revocations held by the mass-revocation brake go ahead (security)')
    .requiredOption('--reason <text>', 'why these revocations are expected')
    .action(run(async (system: string, o: { reason: string }) => rt.print(await rt.api().releaseHeldRevocations({ system, reason: o.reason }))));

  program.command('reconcile [system]').description('compare what targets really hold with the grants and record each drift as a finding')
    .option('--revoke', 'also remove access that has no grant (default: the system\'s reconcile.mode)')
    .option('--report-only', 'record findings only, whatever the system\'s reconcile.mode')
    .option('--confirm-mass-revoke', 'security: go ahead even if the removal exceeds the brake')
    .action(run(async (system: string | undefined, o: { revoke?: boolean; reportOnly?: boolean; confirmMassRevoke?: boolean }) => {
      const revoke = o.reportOnly ? false : o.revoke ? true : undefined;
      const results = await rt.api().reconcile({ system, ...(revoke === undefined ? {} : { revoke }), confirmMassRevoke: Boolean(o.confirmMassRevoke) });
      rt.print(rt.output.json ? results : results.map((r) => ({
        system: r.system, accounts: r.accounts, grants: r.liveGrants, drift: Object.entries(r.drift).map(([k, n]) => `${k}=${n}`).join(' ') || 'none',
        revoked: r.revoked, held: r.brakeHeld ? 'yes: security must confirm' : 'no',
        connector: r.connectorUnsafe.length === 0 ? 'ok' : `connector_unsafe: ${r.connectorUnsafe.join('; ')}`,
      })));
    }));

  program.command('systems').description('systems with owners; for operators and owners, connector health and the last reconciliation')
    .action(run(async () => {
      const { items } = await rt.api().listSystems();
      rt.print(rt.output.json ? items : items.map((s) => ({
        system: s.key, owners: `${s.businessOwner ?? '?'} / ${s.technicalOwner ?? '?'}`, entitlements: s.entitlements.length,
        connector: s.operations?.connector ?? '', health: s.operations?.health ?? '', error: s.operations?.lastError ?? '',
        reconciled: s.operations?.lastReconciliation?.finishedAt ?? '', drift: s.operations?.openDriftFindings ?? '',
      })));
    }));
  program.command('revocation-lag').description('how long access stayed in targets after its grant ended (readers of provisioning)')
    .option('--days <n>', 'the window, 1 to 90 days', '30').option('--system <key>')
    .action(run(async (o: { days: string; system?: string }) => {
      const lag = await rt.api().measureRevocationLag({ days: Number(o.days), system: o.system });
      rt.print(rt.output.json ? lag : lag.bySystem.map((s) => ({
        system: s.system, removed: s.removed, open: s.open, median: span(s.medianMs), p95: span(s.p95Ms), worst: span(s.maxMs),
        oldestOpenDue: s.oldestOpenDueAt ?? '',
      })));
    }));

  const findings = program.command('findings').description('what needs a person: drift, failures, overdue tasks');
  // Open by default: what needs a person now. GET /v1/findings keeps answering every status without
  // one, as the console's charts count resolved findings too.
  findings.command('list').description('findings still open (or --status, --all)')
    .option('--status <status>', 'open | accepted | resolved (default: open)').option('--all', 'every status, resolved ones too')
    .option('--kind <kind>').option('--system <key>')
    .action(run(async (o: { status?: string; all?: boolean; kind?: string; system?: string }) => {
      if (o.all && o.status) throw new TenureError('input.invalid', '--all and --status: give one or the other', { field: 'status' });
      const status = o.all ? undefined : (o.status ?? 'open') as 'open';
      const rows = await rt.api().listFindings({ status, kind: o.kind as 'orphan_account', system: o.system });
      rt.print(rt.output.json ? rows : rows.map((f) => ({
        id: f.id, kind: f.kind, severity: f.severity, status: f.status, system: f.system ?? '', summary: f.summary, owner: f.owner ?? '',
      })));
    }));
  findings.command('accept <finding>').description('security: accept the risk as an exception until a date, then it is open again')
    .requiredOption('--until <time>', 'ISO 8601, at most 180 days ahead').requiredOption('--reason <text>')
    .action(run(async (finding: string, o: { until: string; reason: string }) =>
      rt.print(await rt.api().acceptFinding({ finding, until: o.until, reason: o.reason }))));
  findings.command('resolve <finding>').requiredOption('--resolution <text>', 'what was done')
    .action(run(async (finding: string, o: { resolution: string }) => rt.print(await rt.api().resolveFinding({ finding, resolution: o.resolution }))));
};
