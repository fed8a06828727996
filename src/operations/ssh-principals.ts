import { z } from 'zod';
import { isSafePrincipal } from '../ssh/certificate-authority.js';
import { authorize } from './authorize.js';
import type { Context } from '../work/context.js';
import { parseInput } from './input.js';
import { liveAt, loadSshGrant } from './lib/credentials/ssh-grant.js';

export const Input = z.object({
  user: z.string().min(1, 'must name the account').max(256, 'must be at most 256 characters').describe('the account being logged in to (sshd: %u)'),
  keyId: z.string().max(256, 'must be at most 256 characters').optional().describe('the certificate\'s key id (sshd: %i), a grant id'),
}).strict();

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * `tenure ssh principals USER KEY_ID`, run by sshd as AuthorizedPrincipalsCommand at every login
 * with a certificate: the principals sshd should accept for this account right now. It answers
 * from the grants themselves, not from the KRL, so a revocation refuses the next login at once,
 * before any KRL is rebuilt or copied to the server.
 *
 * Deny by default: no key id (every certificate Tenure issues has one), a key id that is no grant,
 * a grant that is not live, not on an ssh-ca system, or whose principal is not this account: all
 * give no principals, which sshd reads as "nobody may log in here with this certificate".
 */
export const sshPrincipals = async (ctx: Context, input: z.input<typeof Input>): Promise<{ principals: string[] }> => {
  const data = parseInput(Input, input);
  await authorize(ctx, 'ssh.principals');
  const none = { principals: [] };
  if (data.keyId === undefined || !UUID.test(data.keyId)) return none;
  const grant = await loadSshGrant(ctx.store.db, data.keyId.toLowerCase());
  if (!grant?.ssh || !liveAt(grant, ctx.clock.now())) return none;
  const { principal } = grant.ssh;
  if (principal !== data.user || !isSafePrincipal(principal)) return none;
  return { principals: [principal] };
};
