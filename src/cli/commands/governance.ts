import type { Command } from 'commander';
import { TenureError } from '../../domain/errors.js';
import { formatDuration } from '../../domain/durations.js';
import { countOf } from '../../domain/plural.js';
import type { Runtime } from '../runtime.js';

type Run = (action: (...args: never[]) => Promise<void>) => (...args: unknown[]) => Promise<void>;
const say = (line: string) => process.stdout.write(`${line}\n`);

type CaseLine = { name: string; ok: boolean; expected: Record<string, unknown>; actual: Record<string, unknown> };
/** A passing case is one line; a failing one says what was expected and what happened instead. */
const describeCase = (r: CaseLine): string => (r.ok ? `ok    ${r.name}` : [`FAIL  ${r.name}`,
  `      expected ${JSON.stringify(r.expected)}`, `      actual   ${JSON.stringify(r.actual)}`].join('\n'));

type Impact = NonNullable<Awaited<ReturnType<ReturnType<Runtime['api']>['planPolicy']>>['impact']>;
/** The impact as lines a reviewer reads before approving the change. */
const describeImpact = (i: Impact): string[] => [
  `impact: ${countOf(i.grantsOutlasting.length, 'live grant')} longer than the new maximum, ${countOf(i.newSodConflicts.length, 'new separation-of-duties conflict')}, ` +
    `birthright +${i.birthrightGained.length} −${i.birthrightLost.length}, ${countOf(i.requestsRerouted.length, 'pending stage')} re-routed`,
  ...i.grantsOutlasting.map((g) => `  grant ${g.identity} ${g.entitlement} ends ${g.endsAt ? new Date(g.endsAt).toISOString() : 'never'}: longer than ${formatDuration(g.newMaximum)}`),
  ...i.newSodConflicts.map((c) => `  conflict ${c.identity} ${c.rule}`),
  ...i.birthrightGained.map((b) => `  + birthright ${b.identity} ${b.entitlement}`),
  ...i.birthrightLost.map((b) => `  - birthright ${b.identity} ${b.entitlement}`),
  ...i.requestsRerouted.map((r) => `  request ${r.requestId.slice(0, 8)} ${r.stage}: ${r.from.join(', ') || '-'} → ${r.to.join(', ') || '-'}`),
];

export const policyCommands = (program: Command, rt: Runtime, run: Run): void => {
  const policy = program.command('policy').description('policy as code: systems, entitlements, durations, routing, SoD');
  policy.command('validate <path>').description('check a policy file or folder; with --as or --server, also the people it names')
    .action(run(async (path: string) => {
      // Without an actor or a server only the files are checked: CI needs no database for that.
      const withPeople = rt.server !== undefined || Boolean(program.opts().as ?? rt.config.actor);
      const result = withPeople ? await rt.api().validatePolicy(path) : await (await import('../../operations/validate-policy.js')).validatePolicy(undefined, { path });
      if (rt.output.json) rt.print(result); else say(result.ok ? `valid: ${result.files.join(', ')} (digest ${result.digest})` : result.messages.join('\n'));
      if (!result.ok) throw new TenureError('policy.invalid', `${countOf(result.errors.length, 'error')} in the policy`);
    }));
  policy.command('plan <path>').description('show what apply would change in the database')
    .option('--impact', 'also what it would do to what exists now: grants, conflicts, birthright, pending requests (needs policy.apply)')
    .action(run(async (path: string, o: { impact?: boolean }) => {
      const result = await rt.api().planPolicy(path, { impact: Boolean(o.impact) });
      if (rt.output.json) { rt.print(result); return; }
      say(result.changed ? result.lines.join('\n') : 'no changes');
      if (result.impact) say(describeImpact(result.impact).join('\n'));
    }));
  policy.command('test <path>').description("run the policy's tests (<policy>.tests.yaml) against it, changing nothing; exit 1 on a failure")
    .action(run(async (path: string) => {
      const result = await rt.api().testPolicy(path);
      if (rt.output.json) rt.print(result);
      else say([...result.results.map(describeCase), `${countOf(result.passed, 'test')} passed, ${result.failed} failed`].join('\n'));
      if (!result.ok) process.exitCode = 1;
    }));
  policy.command('apply <path>').description('apply the policy in one transaction, recorded in the audit log')
    .action(run(async (path: string) => {
      const result = await rt.api().applyPolicy(path);
      if (rt.output.json) rt.print(result); else say([...(result.changed ? result.lines : ['no changes']), `applied ${result.digest}`].join('\n'));
    }));
};

export const auditCommands = (program: Command, rt: Runtime, run: Run): void => {
  const audit = program.command('audit').description('the tamper-evident audit log');
  audit.command('verify').description('check the whole hash chain, the signed checkpoints and their anchor outside the database')
    .option('--allow-unsigned', 'accept events that no checkpoint covers (a new installation with no checkpoint yet)')
    .option('--strict', 'for auditors: a log that no signed checkpoint covers fails, even with --allow-unsigned')
    .action(run(async (o: { allowUnsigned?: boolean; strict?: boolean }) => {
      const result = await rt.api().verifyAudit({ allowUnsigned: Boolean(o.allowUnsigned), strict: Boolean(o.strict) });
      if (rt.output.json) {
        rt.print({ ok: result.ok, events: result.events, firstBadSeq: result.firstBadSeq, reason: result.reason, checkpoints: result.checkpoints,
          anchoredSeq: result.anchoredSeq, restores: result.restores });
      } else {
        const unvouched = result.ok && result.events > 0 && result.checkpoints === 0 ? ' (UNSIGNED: nothing outside the database vouches for it)' : '';
        say(result.ok ? `ok: ${countOf(result.events, 'event')}, ${countOf(result.checkpoints, 'checkpoint')} verified, anchored up to event ${result.anchoredSeq ?? 'none'}${unvouched}`
          : `BROKEN at event ${result.firstBadSeq}: ${result.reason}`);
        for (const r of result.restores) say(`acknowledged restore (event ${r.seq}): anchored events ${r.forkSeq + 1}-${r.supersededSeq} were given up`);
      }
      if (!result.ok) process.exitCode = 3;
    }));
  const filters = (c: Command) => c.option('--identity <handle>').option('--system <key>').option('--action <type>')
    .option('--actor <handle>').option('--from <date>').option('--to <date>').option('--after <seq>', 'events after this sequence number', Number);
  filters(audit.command('search').description('find audit events').option('--limit <n>', 'at most this many', Number))
    .action(run(async (o: Record<string, string | number | undefined>) => {
      const api = rt.api();
      const result = await api.searchAudit({
        identity: o.identity as string, system: o.system as string, action: o.action as 'grant.created', actor: o.actor as string,
        from: o.from as string, to: o.to as string, afterSeq: o.after as number, ...(o.limit ? { limit: o.limit as number } : {}),
      });
      if (rt.output.json) { rt.print(result); return; }
      const handles = await api.handles(result.events.flatMap((e) => [e.actor.id ?? '', e.actor.issuedBy ?? '', e.identityId ?? '']));
      rt.print(result.events.map((e) => ({
        seq: e.seq, at: e.at, action: e.action, actor: e.actor.id ? handles.get(e.actor.id) : e.actor.channel, channel: e.actor.channel,
        ...(e.actor.issuedBy ? { issuedBy: handles.get(e.actor.issuedBy) ?? e.actor.issuedBy } : {}),
        about: e.identityId ? handles.get(e.identityId) : '', subject: `${e.subject.type}:${e.subject.id.slice(0, 8)}`, reason: e.reason ?? '',
      })));
    }));
  filters(audit.command('export').description('write matching events as JSON Lines to stdout'))
    .action(run(async (o: Record<string, string | number | undefined>) => {
      await rt.api().exportAudit({ identity: o.identity as string, system: o.system as string, action: o.action as 'grant.created',
        actor: o.actor as string, from: o.from as string, to: o.to as string, afterSeq: o.after as number }, process.stdout);
    }));
  audit.command('checkpoint').description('sign the current head of the chain now')
    .action(run(async () => rt.print(await rt.api().writeCheckpoint())));
  audit.command('acknowledge-restore')
    .description('after restoring the database from a backup: record the restore and sign it into the anchor, so verify sets aside the checkpoints the backup did not hold')
    .requiredOption('--reason <text>', 'which backup was restored, when and why (kept in the audit event)')
    .action(run(async (o: { reason: string }) => {
      // On this machine only: it reads the anchor file and signs with the private key kept here.
      rt.requireLocal();
      const [{ acknowledgeRestore }, { anchorFrom }, { loadSigningKey, loadTrustedKeys }] = await Promise.all([
        import('../../operations/acknowledge-restore.js'), import('../../audit/anchor.js'), import('../../audit/signing-key.js')]);
      const source = { env: process.env, dataDir: rt.config.dataDir };
      const done = await acknowledgeRestore(await rt.as(), { reason: o.reason },
        { signing: loadSigningKey({ ...source, create: false }), trusted: loadTrustedKeys(source) }, anchorFrom(source));
      if (rt.output.json) { rt.print(done); return; }
      say(`restore acknowledged (event ${done.seq}): the database agrees with ${done.anchorFile} up to event ${done.forkSeq};`
        + ` anchored events ${done.forkSeq + 1}-${done.supersededSeq} are given up. Run tenure audit verify.`);
    }));
};
