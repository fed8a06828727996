import type { Command } from 'commander';
import { TenureError } from '../../domain/errors.js';
import type { Runtime } from '../runtime.js';
import { writePack, type PackOutput } from './evidence.js';

type Run = (action: (...args: never[]) => Promise<void>) => (...args: unknown[]) => Promise<void>;
const list = (value: string) => value.split(',').map((s) => s.trim()).filter(Boolean);

export const identityCommands = (program: Command, rt: Runtime, run: Run): void => {
  const identity = program.command('identity').description('people and service accounts');
  identity.command('create').description('create an identity')
    .requiredOption('--handle <handle>').requiredOption('--name <displayName>')
    .requiredOption('--kind <kind>', 'employee | contractor | vendor_operator | service_account')
    .option('--email <email>').option('--manager <handle>').option('--sponsor <handle>').option('--owner <handle>')
    .option('--vendor <name>', "a person's employer; for a service account, its operator (as --operated-by)")
    .option('--operated-by <vendor>', 'a service account the vendor runs: its contract end suspends it')
    .option('--department <department>').option('--title <title>')
    .action(run(async (o: Record<string, string>) => {
      const { handle, name, kind, ...rest } = o;
      rt.print(await rt.api().createIdentity({ handle: handle!, displayName: name!, kind: kind as 'employee', ...rest }));
    }));
  identity.command('set-operator <identity>').description("move a service account to another vendor's operation (--vendor) or in-house (--none)")
    .option('--vendor <name>', 'the vendor that runs it from now on: its contract end suspends it').option('--none', 'no vendor: run in-house')
    .requiredOption('--reason <reason>')
    .action(run(async (ref: string, o: { vendor?: string; none?: boolean; reason: string }) => {
      // Exactly one, so that forgetting --vendor never silently takes an account out of its vendor's end.
      if ([o.vendor !== undefined, o.none === true].filter(Boolean).length !== 1) {
        throw new TenureError('input.invalid', 'vendor: give exactly one of --vendor NAME or --none', { field: 'vendor' });
      }
      rt.print(await rt.api().changeIdentityOperator({ identity: ref, vendor: o.none ? null : o.vendor!, reason: o.reason }));
    }));
  identity.command('notifications').description('how non-urgent mail reaches you (or --identity, for admin and IAM): at once or in a daily digest')
    .requiredOption('--mail <mode>', 'immediate | daily_digest').option('--identity <handle>', 'someone else (admin, IAM)')
    .action(run(async (o: { mail: string; identity?: string }) => {
      rt.print(await rt.api().setMailDelivery({ identity: o.identity, mailDelivery: o.mail as 'immediate' }));
    }));
  identity.command('list').description('list identities').action(run(async () => {
    rt.print(await rt.api().listIdentities(), ['handle', 'displayName', 'kind', 'status', 'sponsor', 'manager', 'owner']);
  }));
  identity.command('show <identity>').action(run(async (ref: string) => rt.print(await rt.api().showIdentity(ref))));
  for (const [verb, status] of [['activate', 'active'], ['suspend', 'suspended'], ['terminate', 'terminated']] as const) {
    identity.command(`${verb} <identity>`).description(`set status ${status}${status === 'active' ? '' : ', revoking all grants'}`)
      .requiredOption('--reason <reason>')
      .action(run(async (ref: string, o: { reason: string }) => {
        rt.print(await rt.api().changeIdentityStatus({ identity: ref, status, reason: o.reason }));
      }));
  }
};

export const vendorCommands = (program: Command, rt: Runtime, run: Run): void => {
  const vendor = program.command('vendor').description('third-party organisations');
  vendor.command('create').requiredOption('--name <name>')
    .requiredOption('--kind <kind>', 'managed_service_provider | system_integrator | staffing_agency | other')
    .requiredOption('--owner <handle>', 'internal relationship owner').requiredOption('--contract-end <date>')
    .action(run(async (o: Record<string, string>) => {
      rt.print(await rt.api().createVendor({ name: o.name!, kind: o.kind as 'other', relationshipOwner: o.owner!, contractEnd: o.contractEnd! }));
    }));
  vendor.command('list').description('vendors, soonest contract end first').action(run(async () => {
    rt.print(await rt.api().listVendors(), ['name', 'kind', 'relationshipOwner', 'contractEnd', 'endAppliedAt']);
  }));
  vendor.command('show <vendor>').description('one vendor: people, engagements, service accounts, live grants, open findings')
    .action(run(async (ref: string) => {
      const v = await rt.api().showVendor(ref);
      if (rt.output.json) return rt.print(v);
      rt.print([{ name: v.name, kind: v.kind, relationshipOwner: v.relationshipOwner, contractEnd: v.contractEnd, endAppliedAt: v.endAppliedAt }]);
      rt.print(v.engagements, ['identity', 'sponsor', 'status', 'endsAt', 'purpose']);
      rt.print(v.serviceAccounts.map((a) => ({ ...a, credentials: a.credentials.map((c) => `${c.name} (${c.retirementDueAt ? 'retire' : c.status})`).join(', ') })),
        ['handle', 'status', 'owner', 'credentials']);
      rt.print(v.grants, ['identity', 'entitlement', 'status', 'provisioningState', 'endsAt']);
      rt.print(v.findings, ['kind', 'severity', 'identity', 'summary']);
    }));
  vendor.command('evidence <vendor>').description('evidence pack of a vendor: its page now, grants held in the period, every event')
    .option('--from <date>', 'start of the period (default: when the vendor was registered)').option('--to <date>', 'end of the period (default: now)')
    .option('--html', 'a readable page (print it to PDF) instead of JSON').option('--out <file>', 'write to a file instead of stdout')
    .action(run(async (ref: string, o: { from?: string; to?: string } & PackOutput) => {
      writePack(rt, await rt.api().buildVendorEvidence({ vendor: ref, from: o.from, to: o.to }), o);
    }));
  vendor.command('set-end <vendor>').description("move the contract end; earlier shortens engagements, now or past ends the vendor's access")
    .requiredOption('--end <date>').requiredOption('--reason <reason>')
    .action(run(async (ref: string, o: { end: string; reason: string }) => {
      rt.print(await rt.api().changeVendorEnd({ vendor: ref, contractEnd: o.end, reason: o.reason }));
    }));
};

export const engagementCommands = (program: Command, rt: Runtime, run: Run): void => {
  const engagement = program.command('engagement').description("why a non-employee is here, until when, and what is in scope");
  engagement.command('create').requiredOption('--identity <handle>').requiredOption('--vendor <name>').option('--sponsor <handle>')
    .requiredOption('--function <businessFunction>').requiredOption('--purpose <purpose>')
    .requiredOption('--pattern <pattern>', 'short_term_developer | system_integrator | managed_service | analyst | support')
    .option('--start <date>').requiredOption('--end <date>').requiredOption('--sensitivity <level>', 'public | internal | confidential | restricted')
    .requiredOption('--scope <keys>', 'comma-separated system or system/entitlement keys', list)
    .action(run(async (o: Record<string, string & string[]>) => {
      rt.print(await rt.api().createEngagement({
        identity: o.identity!, vendor: o.vendor!, sponsor: o.sponsor, businessFunction: o.function!, purpose: o.purpose!,
        pattern: o.pattern as 'analyst', startsAt: o.start, endsAt: o.end!, dataSensitivity: o.sensitivity as 'internal', scope: o.scope!,
      }));
    }));
  engagement.command('list').option('--identity <handle>')
    .action(run(async (o: { identity?: string }) => {
      rt.print(await rt.api().listEngagements({ identity: o.identity }), ['id', 'identity', 'vendor', 'sponsor', 'status', 'endsAt', 'scope']);
    }));
  engagement.command('show <engagement>').description('one engagement with every grant issued under it')
    .action(run(async (id: string) => {
      const e = await rt.api().showEngagement(id);
      if (rt.output.json) return rt.print(e);
      rt.print([{ id: e.id, identity: e.identity, vendor: e.vendor, sponsor: e.sponsor, status: e.status, endsAt: e.endsAt, scope: e.scope }]);
      rt.print(e.grants, ['id', 'entitlement', 'status', 'provisioningState', 'startsAt', 'endsAt', 'endedAt']);
    }));
  engagement.command('set-end <engagement>').description('move the end; earlier shortens every grant under it')
    .requiredOption('--end <date>').requiredOption('--reason <reason>')
    .action(run(async (id: string, o: { end: string; reason: string }) => {
      rt.print(await rt.api().changeEngagementEnd({ engagement: id, endsAt: o.end, reason: o.reason }));
    }));
  engagement.command('end <engagement>').description('end now: revoke its grants, cancel its requests').requiredOption('--reason <reason>')
    .action(run(async (id: string, o: { reason: string }) => rt.print(await rt.api().endEngagement({ engagement: id, reason: o.reason }))));
};
