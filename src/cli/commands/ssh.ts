import { readFile, writeFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { TenureError } from '../../domain/errors.js';
import { principalsFileContent } from '../../ssh/certificate-authority.js';
import type { Runtime } from '../runtime.js';

type Run = (action: (...args: never[]) => Promise<void>) => (...args: unknown[]) => Promise<void>;

/** Where ssh looks for a key's certificate: `id_ed25519.pub` → `id_ed25519-cert.pub`. */
export const certificatePathFor = (publicKeyPath: string): string =>
  `${publicKeyPath.endsWith('.pub') ? publicKeyPath.slice(0, -'.pub'.length) : publicKeyPath}-cert.pub`;

const readPublicKey = async (path: string): Promise<string> => {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    throw new TenureError('input.invalid', `--public-key: ${path} cannot be read (${(error as NodeJS.ErrnoException).code ?? 'unreadable'})`, { field: 'publicKey' });
  }
};

/** SSH certificates for grants on ssh-ca systems (docs/connectors-ssh.md). */
export const sshCommands = (program: Command, rt: Runtime, run: Run): void => {
  const ssh = program.command('ssh').description('SSH certificates for your grants on systems whose connector is ssh-ca');
  ssh.command('sign').description('sign your public key for one of your active grants; the certificate ends with the grant at the latest')
    .requiredOption('--grant <id>', 'the grant (its id becomes the certificate\'s key id)')
    .requiredOption('--public-key <file>', 'your OpenSSH public key, e.g. ~/.ssh/id_ed25519.pub')
    .option('--ttl <duration>', 'how long the certificate should be valid, e.g. 4h (default and maximum: the system\'s max_ttl)')
    .option('--out <file>', 'where to write the certificate (default: <key>-cert.pub next to the public key, where ssh finds it)')
    .action(run(async (o: { grant: string; publicKey: string; ttl?: string; out?: string }) => {
      const issued = await rt.api().signSshCertificate({ grant: o.grant, publicKey: await readPublicKey(o.publicKey), ttl: o.ttl });
      const out = o.out ?? certificatePathFor(o.publicKey);
      // A certificate holds no secret; renewing replaces the previous one where ssh looks for it.
      await writeFile(out, `${issued.certificate}\n`, { mode: 0o644 });
      rt.print(rt.output.json ? { ...issued, file: out } : {
        file: out, serial: issued.serial, keyId: issued.keyId, principals: issued.principals.join(','),
        validAfter: issued.validAfter, validBefore: issued.validBefore, mfa: issued.mfa, mfaAt: issued.mfaAt,
      });
    }));
  ssh.command('principals <user> [keyId]')
    .description('for sshd\'s AuthorizedPrincipalsCommand (%u %i): the principals to accept now, one a line; nothing means deny')
    .action(run(async (user: string, keyId: string | undefined) => {
      // sshd must ask the running service, which sees every revocation at once; a local database copy would not.
      if (rt.server === undefined) {
        throw new TenureError('server.required', 'tenure ssh principals asks the running Tenure server: set TENURE_SERVER (or --server) and TENURE_TOKEN (a checker\'s token with the check scope)');
      }
      const { principals } = await rt.api().sshPrincipals({ user, ...(keyId === undefined ? {} : { keyId }) });
      if (rt.output.json) rt.print({ principals });
      else process.stdout.write(principalsFileContent(principals));
    }));
  ssh.command('authorized-keys <user> <fingerprint> [connection]')
    .description('for a proxied host\'s sshd AuthorizedKeysCommand (%u %f, and %C where sshd has it): the keys the account accepts (the proxy\'s); other offers become findings')
    .requiredOption('--host <name>', 'this host\'s name in the policy (proxy.hosts)')
    .action(run(async (user: string, fingerprint: string, connection: string | undefined, o: { host: string }) => {
      if (rt.server === undefined) {
        throw new TenureError('server.required', 'tenure ssh authorized-keys asks the running Tenure server: set TENURE_SERVER (or --server) and TENURE_TOKEN (a checker\'s token with the check scope)');
      }
      // %C is "client-address client-port server-address server-port" in one argument.
      const client = connection?.trim().split(/\s+/)[0];
      const { keys } = await rt.api().sshAuthorizedKeys({ host: o.host, user, fingerprint, ...(client ? { client } : {}) });
      if (rt.output.json) rt.print({ keys });
      else process.stdout.write(keys.map((k) => `${k}\n`).join(''));
    }));
};
