import { and, eq, ne } from 'drizzle-orm';
import { z } from 'zod';
import { TenureError } from '../domain/errors.js';
import { credentials } from '../store/schema-credentials.js';
import { loadActor } from './authorize.js';
import { inTransaction, type Context } from '../work/context.js';
import { instant, parseInput } from './input.js';
import { checkFingerprint, checkManages, lockCredential } from './lib/credentials/access.js';
import { checkExpiry } from './register-credential.js';

export const Input = z.object({
  credential: z.string().min(1, 'must be a credential id'),
  fingerprint: z.string().max(200).describe('the fingerprint of the new secret'),
  expiresAt: instant.optional(),
}).strict();

/** Records a rotation: the new secret's fingerprint and expiry; the rotation clock starts again. */
export const rotateCredential = async (ctx: Context, input: z.input<typeof Input>) => {
  const data = parseInput(Input, input);
  checkFingerprint(data.fingerprint);
  return inTransaction(ctx, async (work) => {
    const acting = await loadActor(work.tx, work.actor.id);
    const { credential, identity } = await lockCredential(work, data.credential);
    checkManages(acting, identity);
    if (credential.status !== 'active') throw new TenureError('credential.retired', 'the credential is retired', { field: 'credential' });
    if (data.fingerprint === credential.fingerprint) {
      throw new TenureError('credential.fingerprint_taken', 'a rotation needs a new secret: the fingerprint is unchanged', { field: 'fingerprint' });
    }
    const [taken] = await work.tx.select({ id: credentials.id }).from(credentials).where(and(eq(credentials.fingerprint, data.fingerprint),
      eq(credentials.status, 'active'), ne(credentials.id, credential.id)));
    if (taken) throw new TenureError('credential.fingerprint_taken', 'an active credential already has this fingerprint', { field: 'fingerprint' });
    await checkExpiry(work, credential.kind, work.now, data.expiresAt);
    await work.tx.update(credentials).set({ fingerprint: data.fingerprint, lastRotatedAt: work.now, expiresAt: data.expiresAt ?? null })
      .where(eq(credentials.id, credential.id));
    work.record({ action: 'credential.rotated', subject: { type: 'credential', id: credential.id }, identityId: identity.id, systemId: credential.systemId,
      before: { fingerprint: credential.fingerprint, lastRotatedAt: credential.lastRotatedAt },
      after: { fingerprint: data.fingerprint, lastRotatedAt: work.now, expiresAt: data.expiresAt ?? null } });
    return { id: credential.id, lastRotatedAt: work.now, expiresAt: data.expiresAt ?? null };
  });
};
