import { eq, or } from 'drizzle-orm';
import { z } from 'zod';
import { TenureError } from '../domain/errors.js';
import { canTransition, endsAccess } from '../domain/identity-lifecycle.js';
import { IDENTITY_STATUSES } from '../domain/model.js';
import { findIdentity, lockIdentity } from '../store/queries/identities.js';
import { accessRequests, engagements, grants, identities } from '../store/schema.js';
import { authorize } from './authorize.js';
import { inTransaction, type Context } from './context.js';
import { parseInput, ref, text } from './input.js';
import { endCredentialsOf } from './lib/end-credentials.js';
import { endEngagementWithin } from './lib/engagement-end.js';
import { cancelPendingRequests, revokeLiveGrants } from './lib/end-access.js';

export const Input = z.object({ identity: ref, status: z.enum(IDENTITY_STATUSES), reason: text() }).strict();

/**
 * Activates, suspends or terminates an identity. Suspension and termination end its access in the
 * same transaction: every grant revoked, every pending request for it cancelled, its API tokens
 * revoked and web sessions ended, and on termination its engagements ended. Identities it sponsors
 * keep their grants until their end (see DESIGN).
 */
export const changeIdentityStatus = async (ctx: Context, input: z.input<typeof Input>) => {
  const data = parseInput(Input, input);
  return inTransaction(ctx, async (work) => {
    const acting = await authorize(work, 'identity.change_status');
    const found = await findIdentity(work.tx, data.identity);
    const person = await lockIdentity(work.tx, found.id);
    if (person.id === acting.identity.id && endsAccess(data.status)) {
      throw new TenureError('actor.forbidden', 'you cannot suspend or terminate yourself', { field: 'identity' });
    }
    if (!canTransition(person.status, data.status)) {
      throw new TenureError('identity.invalid_transition', `${person.handle} cannot go from ${person.status} to ${data.status}`, { field: 'status' });
    }
    await work.tx.update(identities).set({ status: data.status, updatedAt: work.now }).where(eq(identities.id, person.id));
    work.record({ action: 'identity.status_changed', subject: { type: 'identity', id: person.id }, identityId: person.id,
      before: { status: person.status }, after: { status: data.status }, reason: data.reason });
    if (!endsAccess(data.status)) return { revoked: 0, cancelled: 0 };
    const why = `identity ${data.status}: ${data.reason}`;
    const revoked = await revokeLiveGrants(work, eq(grants.identityId, person.id), why);
    await endCredentialsOf(work, person.id, why);
    const cancelled = await cancelPendingRequests(work,
      or(eq(accessRequests.beneficiaryId, person.id), eq(accessRequests.requesterId, person.id))!, why);
    if (data.status === 'terminated') {
      const live = await work.tx.select().from(engagements).where(eq(engagements.identityId, person.id)).for('update');
      for (const engagement of live.filter((e) => e.status === 'active')) await endEngagementWithin(work, engagement, why);
    }
    return { revoked: revoked.length, cancelled };
  });
};
