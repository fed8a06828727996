import type { Command } from 'commander';
import { TenureError } from '../../domain/errors.js';
import type { Runtime } from '../runtime.js';
import { renderRequest, type RequestShown } from '../views/request.js';

type Run = (action: (...args: never[]) => Promise<void>) => (...args: unknown[]) => Promise<void>;
const stage = (value: string) => Number.parseInt(value, 10);
const REQUEST_COLUMNS = ['id', 'kind', 'status', 'beneficiary', 'entitlement', 'tier', 'startsAt', 'endsAt', 'requester'];

export const requestCommands = (program: Command, rt: Runtime, run: Run): void => {
  const request = program.command('request').description('ask for access, and decide on requests');
  request.command('create').description('request an entitlement (for yourself unless --for)')
    .option('--for <handle>', 'beneficiary').option('--entitlement <key>', 'system/entitlement')
    .option('--kind <kind>', 'new | extension | scope_change', 'new').option('--grant <id>', 'grant to extend or replace')
    .requiredOption('--reason <justification>').option('--ticket <ref>').option('--start <date>').option('--end <date>')
    .option('--duration <duration>', 'for example 2m, 8h, 30d')
    .option('--quiet', 'print only the new request\'s id, for scripts: REQ=$(tenure request create … --quiet)')
    .action(run(async (o: Record<string, string>) => {
      const created = await rt.api().createRequest({
        kind: o.kind as 'new', beneficiary: o.for, entitlement: o.entitlement, targetGrant: o.grant, justification: o.reason!,
        ticket: o.ticket, startsAt: o.start, endsAt: o.end, duration: o.duration,
      });
      if (o.quiet) { process.stdout.write(`${created.id}\n`); return; }
      rt.print(rt.output.json ? created : { id: created.id, status: created.status, entitlement: created.entitlementKey,
        startsAt: created.startsAt, endsAt: created.endsAt, route: created.stages.map((s) => s.kind).join(' → ') });
    }));
  request.command('list').option('--inbox', 'what waits for my decision').option('--all', 'every request (IAM, security, audit)')
    .option('--status <status>')
    .action(run(async (o: { inbox?: boolean; all?: boolean; status?: string }) => {
      const view = o.inbox ? 'inbox' : o.all ? 'all' : 'mine';
      rt.print(await rt.api().listRequests({ view, status: o.status as 'pending' }), REQUEST_COLUMNS);
    }));
  request.command('show <request>').description('one request: its facts, window and approval stages')
    .action(run(async (id: string) => {
      const shown = await rt.api().showRequest(id);
      if (rt.output.json) rt.print(shown); else process.stdout.write(renderRequest(shown as RequestShown));
    }));
  request.command('cancel <request>').requiredOption('--reason <reason>')
    .action(run(async (id: string, o: { reason: string }) => rt.print(await rt.api().cancelRequest({ request: id, reason: o.reason }))));
  /** Prints one row per request; a refusal of some is not a failure of the command, but exit code 3 tells a script. */
  const approveSeveral = async (ids: string[], comment: string | undefined) => {
    const { results } = await rt.api().approveRequests({ requests: ids, comment });
    if (rt.output.json) rt.print(results);
    else {
      rt.print(results.map((r) => ({ request: r.request, status: r.outcome?.status ?? 'refused',
        next: r.outcome?.nextStage ?? r.outcome?.grantId ?? '-', problem: r.problem ? `${r.problem.code}: ${r.problem.detail}` : '-' })));
    }
    if (results.some((r) => r.problem)) process.exitCode = 3;
  };
  const decide = (parent: Command) => {
    parent.command('approve <request...>').description('approve the current stage; several ids: each alone, as the console\'s bulk approval')
      .option('--comment <text>').option('--stage <n>', 'expected stage (one request only)', stage)
      .action(run(async (ids: string[], o: { comment?: string; stage?: number }) => {
        if (ids.length === 1) { rt.print(await rt.api().approveRequest({ request: ids[0]!, comment: o.comment, stage: o.stage })); return; }
        if (o.stage !== undefined) throw new TenureError('input.invalid', 'stage: name one request to check its stage', { field: 'stage' });
        await approveSeveral(ids, o.comment);
      }));
    parent.command('deny <request>').description('deny the request').requiredOption('--reason <reason>').option('--stage <n>', 'expected stage', stage)
      .action(run(async (id: string, o: { reason: string; stage?: number }) => {
        rt.print(await rt.api().denyRequest({ request: id, reason: o.reason, stage: o.stage }));
      }));
  };
  decide(request);
  decide(program);
};

export const grantCommands = (program: Command, rt: Runtime, run: Run): void => {
  const grant = program.command('grant').description('access that was given, and its end');
  grant.command('list').option('--identity <handle>').option('--status <status>', 'scheduled | active | expired | revoked | live')
    .action(run(async (o: { identity?: string; status?: string }) => {
      rt.print(await rt.api().listGrants({ identity: o.identity, status: o.status as 'live' }),
        ['id', 'identity', 'entitlement', 'tier', 'status', 'startsAt', 'endsAt', 'endReason']);
    }));
  const revoke = (parent: Command) => parent.command('revoke <grant>').description('end a grant now').requiredOption('--reason <reason>')
    .action(run(async (id: string, o: { reason: string }) => rt.print(await rt.api().revokeGrant({ grant: id, reason: o.reason }))));
  revoke(grant);
  revoke(program);
  grant.command('credential <grant>').description('take a fresh password for the target of your live grant: shown once, Tenure keeps no copy')
    .option('--quiet', 'print only the password, for scripts: export PGPASSWORD=$(tenure grant credential … --quiet)')
    .action(run(async (id: string, o: { quiet?: boolean }) => {
      const issued = await rt.api().issueGrantCredential({ grant: id });
      if (rt.output.json) { rt.print(issued); return; }
      if (o.quiet) {
        if (issued.password) process.stdout.write(`${issued.password}\n`);
        else process.stderr.write('the password was shown once already: take a new one\n');
        return;
      }
      const [host, rest] = [issued.target.split('/')[0]!, issued.target.split('/').slice(1).join('/')];
      process.stdout.write([`account:     ${issued.account}`, `target:      ${issued.target}`, `password:    ${issued.password ?? '(shown once, already)'}`,
        `valid until: ${issued.validUntil ? new Date(issued.validUntil).toISOString() : 'no end'}`,
        `psql:        psql "postgres://${issued.account}@${host}/${rest}"   (enter the password when asked)`,
        'Store it now: Tenure keeps no copy, and it stops working when your access ends.', ''].join('\n'));
    }));
};
