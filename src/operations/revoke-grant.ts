import { eq } from 'drizzle-orm';
import { z } from 'zod';
import { answersFor } from '../domain/accountability.js';
import { TenureError } from '../domain/errors.js';
import type { Executor } from '../store/database.js';
import { findEntitlement } from '../store/queries/catalogue.js';
import { findIdentityById, lockIdentity } from '../store/queries/identities.js';
import { grants } from '../store/schema.js';
import { loadActor, may, requireMayAct, type ActingIdentity } from './authorize.js';
import { inTransaction, type Context } from '../work/context.js';
import { parseInput, text } from './input.js';
import { revokeLiveGrants } from './lib/ending/end-access.js';

export const Input = z.object({ grant: z.uuid('must be a grant id'), reason: text(2000) }).strict();

/**
 * Who may end access early: the holder (giving it up), whoever answers for the holder, the system's
 * owners, and IAM or security. Removing access is never harder than granting it.
 */
const mayRevoke = async (exec: Executor, acting: ActingIdentity, grant: typeof grants.$inferSelect) => {
  if (may(acting, 'grant.revoke_any')) return true;
  const me = acting.identity.id;
  if (grant.identityId === me) return true;
  const holder = await findIdentityById(exec, grant.identityId);
  if (holder && answersFor(holder, me)) return true;
  const { system } = await findEntitlement(exec, grant.entitlementId);
  return system.businessOwnerId === me || system.technicalOwnerId === me;
};

export const revokeGrant = async (ctx: Context, input: z.input<typeof Input>) => {
  const data = parseInput(Input, input);
  return inTransaction(ctx, async (work) => {
    const acting = await loadActor(work.tx, work.actor.id);
    const missing = () => new TenureError('grant.not_found', `no grant '${data.grant}'`, { field: 'grant' });
    const [grant] = await work.tx.select().from(grants).where(eq(grants.id, data.grant));
    if (!grant) throw missing();
    requireMayAct(acting, { allowed: await mayRevoke(work.tx, acting, grant), readAll: 'grant.read_all', notFound: missing,
      refusal: 'you may not revoke this grant' });
    // The holder first, then the grant (the lock order beside inTransaction): a suspension or a
    // decision for the same person is then queued behind this revocation, or it behind them.
    await lockIdentity(work.tx, grant.identityId);
    const ended = await revokeLiveGrants(work, eq(grants.id, grant.id), data.reason);
    if (ended.length === 0) throw new TenureError('grant.already_ended', `the grant is already ${grant.status}`);
    return { id: grant.id, status: 'revoked' as const };
  });
};
