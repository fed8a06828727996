import type { Command } from 'commander';
import { TOKEN_SCOPES, type TokenScope } from '../../domain/tokens.js';
import type { Runtime } from '../runtime.js';

type Run = (action: (...args: never[]) => Promise<void>) => (...args: unknown[]) => Promise<void>;
const list = (value: string) => value.split(',').map((s) => s.trim()).filter(Boolean);

export const tokenCommands = (program: Command, rt: Runtime, run: Run): void => {
  const token = program.command('token').description('API tokens for the HTTP API and for the CLI with --server');
  token.command('create').description('create a token (yours, or a service account\'s you own); prints its secret once')
    .requiredOption('--name <name>', 'what the token is for')
    .option('--identity <handle>', 'whose token (default: the acting identity)')
    .option('--scopes <scopes>', `comma-separated: ${TOKEN_SCOPES.join(', ')} (default read)`, list)
    .option('--expires-in <duration>', 'lifetime, at most 365d (default 90d)')
    .action(run(async (o: { name: string; identity?: string; scopes?: string[]; expiresIn?: string }) => {
      const created = await rt.api().createToken({
        name: o.name, identity: o.identity, scopes: o.scopes as TokenScope[] | undefined, expiresIn: o.expiresIn,
      });
      rt.print(created);
      // On stderr, so that --json leaves one parseable document on stdout.
      process.stderr.write('This secret will not be shown again: store it now (for the CLI, in TENURE_TOKEN).\n');
    }));
  token.command('list').description('live tokens you manage, without their secrets')
    .action(run(async () => {
      rt.print(await rt.api().listTokens(), ['id', 'identity', 'name', 'scopes', 'mfa', 'mfaAt', 'expiresAt', 'lastUsedAt', 'createdAt']);
    }));
  token.command('revoke <token>').description('revoke a token now; the next request that presents it is refused')
    .action(run(async (id: string) => rt.print(await rt.api().revokeToken(id))));
};
