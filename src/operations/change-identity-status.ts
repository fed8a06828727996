import { eq } from 'drizzle-orm';
import { z } from 'zod';
import { TenureError } from '../domain/errors.js';
import { canTransition, endsAccess } from '../domain/identity-lifecycle.js';
import { IDENTITY_STATUSES } from '../domain/model.js';
import { findIdentity, lockIdentity } from '../store/queries/identities.js';
import { identities, vendors } from '../store/schema.js';
import { authorize, refuseUnless } from './authorize.js';
import { inTransaction, type Context, type Work } from '../work/context.js';
import { parseInput, ref, text } from './input.js';
import { endIdentity } from './lib/ending/end-identity.js';
import { flagOrphanedOwnership } from './lib/ending/orphaned-ownership.js';
import { loadAppliedPolicy } from '../policy/applied.js';
import { DEFAULT_HR_SETTINGS } from '../domain/hr.js';

/**
 * A service account suspended by its vendor's contract end stays suspended while that end stands:
 * moving the contract end later (or running the account in-house, without the vendor) comes first.
 */
const refuseEndedOperator = async (work: Work, vendorId: string | null) => {
  if (!vendorId) return;
  const [vendor] = await work.tx.select().from(vendors).where(eq(vendors.id, vendorId));
  if (vendor?.endAppliedAt) {
    throw new TenureError('vendor.invalid_contract_end', `the contract of ${vendor.name}, which operates this account, has ended: move its end first`, { field: 'identity' });
  }
};

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
    refuseUnless(person.id !== acting.identity.id || !endsAccess(data.status), 'you cannot suspend or terminate yourself', 'identity');
    if (!canTransition(person.status, data.status)) {
      throw new TenureError('identity.invalid_transition', `${person.handle} cannot go from ${person.status} to ${data.status}`, { field: 'status' });
    }
    if (!endsAccess(data.status)) {
      await refuseEndedOperator(work, person.operatedByVendorId);
      await work.tx.update(identities).set({ status: data.status, updatedAt: work.now }).where(eq(identities.id, person.id));
      work.record({ action: 'identity.status_changed', subject: { type: 'identity', id: person.id }, identityId: person.id,
        before: { status: person.status }, after: { status: data.status }, reason: data.reason });
      return { revoked: 0, cancelled: 0 };
    }
    const ended = await endIdentity(work, person, data.status as 'suspended' | 'terminated', data.reason);
    // What the person answered for needs a new owner, whichever way they left (HR or by hand).
    const policy = await loadAppliedPolicy(work.tx).catch(() => undefined);
    await flagOrphanedOwnership(work, person, (policy?.hr ?? DEFAULT_HR_SETTINGS).reassignWithinMs);
    return { revoked: ended.revoked, cancelled: ended.cancelled };
  });
};
