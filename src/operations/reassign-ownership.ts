import { and, eq, inArray, ne } from 'drizzle-orm';
import { z } from 'zod';
import { TenureError } from '../domain/errors.js';
import { findIdentity } from '../store/queries/identities.js';
import { accessRequests, engagements, identities } from '../store/schema.js';
import { findings } from '../store/schema-provisioning.js';
import { loadActor, requirePermission, requirePerson } from './authorize.js';
import { inTransaction, type Context, type Work } from '../work/context.js';
import { parseInput, ref, text } from './input.js';
import { resolveFindingsWhere } from './lib/provisioning/findings.js';
import { ownershipKey } from './lib/ending/orphaned-ownership.js';
import { reroutePendingRequests } from './lib/approval/reroute-requests.js';

export const Input = z.object({ from: ref, to: ref, reason: text() }).strict();

/** IAM re-assigns anyone's; the manager of the person who answered for these things re-assigns theirs (the finding is routed to them). */
const authorizeReassign = async (work: Work, from: { managerId: string | null; handle: string }) => {
  const acting = await loadActor(work.tx, work.actor.id);
  if (from.managerId !== acting.identity.id) requirePermission(acting, 'identity.reassign');
  requirePerson(acting, 're-assign ownership');
  return acting;
};

/**
 * Moves what one person sponsored or owned to another active employee: the contractors and vendor
 * operators they sponsor, their active engagements, their service accounts. Systems are owned in
 * the policy file, so they move when the policy does. Each move is audited, and the ownership
 * findings it settles are resolved in the same transaction.
 */
export const reassignOwnership = async (ctx: Context, input: z.input<typeof Input>) => {
  const data = parseInput(Input, input);
  return inTransaction(ctx, async (work) => {
    const from = await findIdentity(work.tx, data.from, 'from');
    const to = await findIdentity(work.tx, data.to, 'to');
    await authorizeReassign(work, from);
    if (to.kind !== 'employee' || to.status !== 'active' || to.id === from.id) {
      throw new TenureError('identity.reassign_invalid', `to: ${to.handle} must be an active employee other than ${from.handle}`, { field: 'to' });
    }
    const sponsored = await work.tx.update(identities).set({ sponsorId: to.id, updatedAt: work.now })
      .where(and(eq(identities.sponsorId, from.id), ne(identities.id, to.id), inArray(identities.status, ['active', 'pending'])))
      .returning({ id: identities.id });
    const owned = await work.tx.update(identities).set({ ownerId: to.id, updatedAt: work.now })
      .where(and(eq(identities.ownerId, from.id), eq(identities.kind, 'service_account'), inArray(identities.status, ['active', 'pending'])))
      .returning({ id: identities.id });
    const engaged = await work.tx.update(engagements).set({ sponsorId: to.id })
      .where(and(eq(engagements.sponsorId, from.id), eq(engagements.status, 'active'), ne(engagements.identityId, to.id)))
      .returning({ id: engagements.id });
    for (const id of [...sponsored, ...owned].map((r) => r.id)) {
      work.record({ action: 'identity.sponsor_changed', subject: { type: 'identity', id }, identityId: id,
        before: { accountable: from.id }, after: { accountable: to.id }, reason: data.reason });
    }
    work.record({ action: 'ownership.reassigned', subject: { type: 'identity', id: from.id }, identityId: from.id,
      after: { to: to.id, sponsored: sponsored.length, serviceAccounts: owned.length, engagements: engaged.length }, reason: data.reason });
    const keys = [...sponsored.map((r) => ownershipKey('sponsorship', r.id)), ...owned.map((r) => ownershipKey('service_account', r.id)),
      ...engaged.map((r) => ownershipKey('engagement', r.id))];
    const moved = [...sponsored, ...owned].map((r) => r.id);
    if (moved.length > 0) await reroutePendingRequests(work, inArray(accessRequests.beneficiaryId, moved), `${from.handle}'s sponsorships re-assigned to ${to.handle}`);
    const resolved = keys.length === 0 ? 0
      : await resolveFindingsWhere(work, inArray(findings.key, keys), `re-assigned to ${to.handle}: ${data.reason}`);
    return { from: from.handle, to: to.handle, sponsored: sponsored.length, serviceAccounts: owned.length, engagements: engaged.length, findingsResolved: resolved };
  });
};
