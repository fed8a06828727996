import { and, eq, inArray, like } from 'drizzle-orm';
import { CREDENTIAL_FINDING_KINDS } from '../domain/credentials.js';
import { z } from 'zod';
import { TenureError } from '../domain/errors.js';
import { credentials } from '../store/schema-credentials.js';
import { findings } from '../store/schema-provisioning.js';
import { loadActor } from './authorize.js';
import { inTransaction, type Context } from '../work/context.js';
import { parseInput, text } from './input.js';
import { checkManages, lockCredential } from './lib/credentials/access.js';
import { resolveFindingsWhere } from './lib/provisioning/findings.js';

export const Input = z.object({ credential: z.string().min(1, 'must be a credential id'), reason: text(2000) }).strict();

/** The secret was revoked where it works: the credential is retired and its findings close. */
export const retireCredential = async (ctx: Context, input: z.input<typeof Input>) => {
  const data = parseInput(Input, input);
  return inTransaction(ctx, async (work) => {
    const acting = await loadActor(work.tx, work.actor.id);
    const { credential, identity } = await lockCredential(work, data.credential);
    checkManages(acting, identity);
    if (credential.status !== 'active') throw new TenureError('credential.retired', 'the credential is already retired', { field: 'credential' });
    await work.tx.update(credentials).set({ status: 'retired', retiredAt: work.now }).where(eq(credentials.id, credential.id));
    await resolveFindingsWhere(work, and(inArray(findings.kind, [...CREDENTIAL_FINDING_KINDS]), like(findings.key, `%:${credential.id}`))!,
      `credential retired: ${data.reason}`);
    work.record({ action: 'credential.retired', subject: { type: 'credential', id: credential.id }, identityId: identity.id,
      systemId: credential.systemId, before: { status: 'active' }, after: { status: 'retired' }, reason: data.reason });
    return { id: credential.id, status: 'retired' as const };
  });
};
