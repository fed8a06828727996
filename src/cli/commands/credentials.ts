import type { Command } from 'commander';
import { CREDENTIAL_KINDS } from '../../domain/credentials.js';
import type { Runtime } from '../runtime.js';

type Run = (action: (...args: never[]) => Promise<void>) => (...args: unknown[]) => Promise<void>;

/** Credentials of non-human identities, by fingerprint only. */
export const credentialCommands = (program: Command, rt: Runtime, run: Run): void => {
  const credential = program.command('credential').description('credentials of service accounts, registered by fingerprint (never the secret)');
  credential.command('register').requiredOption('--identity <handle>').requiredOption('--kind <kind>', CREDENTIAL_KINDS.join(' | '))
    .requiredOption('--name <name>').requiredOption('--fingerprint <fp>', 'SHA256:<base64> (ssh-keygen -l) or sha256:<hex> of the secret')
    .option('--system <key>').option('--expires-at <time>', 'ISO 8601')
    .action(run(async (o: { identity: string; kind: string; name: string; fingerprint: string; system?: string; expiresAt?: string }) => {
      rt.print(await rt.api().registerCredential({ identity: o.identity, kind: o.kind as 'api_key', name: o.name, fingerprint: o.fingerprint,
        ...(o.system ? { system: o.system } : {}), ...(o.expiresAt ? { expiresAt: o.expiresAt } : {}) }));
    }));
  credential.command('list').option('--identity <handle>').option('--retired', 'retired ones instead of active')
    .action(run(async (o: { identity?: string; retired?: boolean }) => {
      rt.print(await rt.api().listCredentials({ ...(o.identity ? { identity: o.identity } : {}), status: o.retired ? 'retired' : 'active' }));
    }));
  credential.command('rotate <credential>').requiredOption('--fingerprint <fp>').option('--expires-at <time>')
    .action(run(async (id: string, o: { fingerprint: string; expiresAt?: string }) => {
      rt.print(await rt.api().rotateCredential({ credential: id, fingerprint: o.fingerprint, ...(o.expiresAt ? { expiresAt: o.expiresAt } : {}) }));
    }));
  credential.command('retire <credential>').requiredOption('--reason <text>')
    .action(run(async (id: string, o: { reason: string }) => rt.print(await rt.api().retireCredential({ credential: id, reason: o.reason }))));
};
