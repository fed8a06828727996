import { eq } from 'drizzle-orm';
import { z } from 'zod';
import { TenureError } from '../domain/errors.js';
import { allows } from '../domain/permissions.js';
import { findEntitlement } from '../store/queries/catalogue.js';
import { findIdentityById } from '../store/queries/identities.js';
import { grants } from '../store/schema.js';
import { loadActor, type ActingIdentity } from './authorize.js';
import { inTransaction, type Context } from './context.js';
import { parseInput, text } from './input.js';
import { revokeLiveGrants } from './lib/end-access.js';

const Input = z.object({ grant: z.uuid('must be a grant id'), reason: text(2000) }).strict();

/**
 * Who may end access early: the holder (giving it up), whoever answers for the holder, the system's
 * owners, and IAM or security. Removing access is never harder than granting it.
 */
const mayRevoke = async (ctx: { tx: Parameters<typeof findIdentityById>[0] }, acting: ActingIdentity, grant: typeof grants.$inferSelect) => {
  if (allows(acting.roles, 'grant.revoke_any')) return true;
  const me = acting.identity.id;
  if (grant.identityId === me) return true;
  const holder = await findIdentityById(ctx.tx, grant.identityId);
  if (holder && [holder.sponsorId, holder.managerId, holder.ownerId].includes(me)) return true;
  const { system } = await findEntitlement(ctx.tx, grant.entitlementId);
  return system.businessOwnerId === me || system.technicalOwnerId === me;
};

export const revokeGrant = async (ctx: Context, input: z.input<typeof Input>) => {
  const data = parseInput(Input, input);
  return inTransaction(ctx, async (work) => {
    const acting = await loadActor(work.tx, work.actor.id);
    const [grant] = await work.tx.select().from(grants).where(eq(grants.id, data.grant));
    if (!grant) throw new TenureError('grant.not_found', `no grant '${data.grant}'`, { field: 'grant' });
    if (!(await mayRevoke(work, acting, grant))) throw new TenureError('actor.forbidden', 'you may not revoke this grant');
    const ended = await revokeLiveGrants(work, eq(grants.id, grant.id), data.reason);
    if (ended.length === 0) throw new TenureError('grant.already_ended', `the grant is already ${grant.status}`);
    return { id: grant.id, status: 'revoked' as const };
  });
};
