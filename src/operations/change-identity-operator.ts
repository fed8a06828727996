import { eq } from 'drizzle-orm';
import { z } from 'zod';
import { TenureError } from '../domain/errors.js';
import { contractOver } from '../domain/vendors.js';
import { findIdentity, lockIdentity } from '../store/queries/identities.js';
import { findVendor, lockVendor } from '../store/queries/vendors.js';
import { accessRequests, identities, vendors } from '../store/schema.js';
import { loadActor, requirePermission } from './authorize.js';
import { inTransaction, type Context } from '../work/context.js';
import { parseInput, ref, text } from './input.js';
import { refuseParties } from './lib/approval/parties.js';
import { reroutePendingRequests } from './lib/approval/reroute-requests.js';

export const Input = z.object({
  identity: ref,
  vendor: ref.nullable().describe('the vendor that runs the service account from now on (id or name); null: nobody, it is run in-house'),
  reason: text(),
}).strict();

/**
 * Moves a service account to another vendor's operation, or in-house (`vendor: null`): from then on
 * the new vendor's contract end suspends it and the old one's no longer does. IAM may; nobody may
 * move an account that is theirs (they own it, are it, or act through a credential its owner
 * minted), since moving it in-house would keep it from the end meant to stop it. That refusal comes
 * before any other, whatever the actor's roles. A vendor whose contract is over takes on nothing.
 * An account suspended by its old vendor's end stays suspended: moving it only lets it be activated.
 */
export const changeIdentityOperator = async (ctx: Context, input: z.input<typeof Input>) => {
  const data = parseInput(Input, input);
  return inTransaction(ctx, async (work) => {
    const acting = await loadActor(work.tx, work.actor.id);
    const found = await findIdentity(work.tx, data.identity);
    // The decision point. The account is locked first (kind 1 of the lock order): two moves of it
    // queue, each deciding from the operator the other committed, and a vendor end that reaches it
    // waits and then sees where it is. Its owner is read under that lock, so the rule below holds at commit.
    const account = await lockIdentity(work.tx, found.id);
    refuseParties(work, account.ownerId ? [account.id, account.ownerId] : [account.id], 'identity.operator_self_forbidden',
      `nobody changes the operator of a service account that is theirs (they own it or act as it): ${account.handle}`, 'identity');
    requirePermission(acting, 'identity.change_operator');
    if (account.kind !== 'service_account') {
      throw new TenureError('vendor.not_operator', `identity: ${account.handle} is a ${account.kind}; only a service account is operated by a vendor`, { field: 'identity' });
    }
    const seen = data.vendor === null ? null : await findVendor(work.tx, data.vendor);
    // The new vendor under FOR SHARE: its end cannot be carried out between this check and commit.
    // One being carried out now holds the row FOR UPDATE, so this waits and then reads it as ended.
    const target = seen && await lockVendor(work.tx, seen.id, 'share');
    if (target && contractOver(target, work.now)) {
      throw new TenureError('vendor.invalid_contract_end', `vendor: the contract of ${target.name} has ended; it operates nothing new`, { field: 'vendor' });
    }
    const before = account.operatedByVendorId;
    const after = target?.id ?? null;
    const [previous] = before ? await work.tx.select({ name: vendors.name }).from(vendors).where(eq(vendors.id, before)) : [];
    const result = { id: account.id, handle: account.handle, operator: target?.name ?? null, previousOperator: previous?.name ?? null };
    if (before === after) return { ...result, changed: false };
    await work.tx.update(identities).set({ operatedByVendorId: after, updatedAt: work.now }).where(eq(identities.id, account.id));
    work.record({ action: 'identity.operator_changed', subject: { type: 'identity', id: account.id }, identityId: account.id,
      before: { operatedByVendorId: before }, after: { operatedByVendorId: after }, reason: data.reason });
    // Who may approve for the account depends on its vendor (approval.rules.not_same_vendor).
    await reroutePendingRequests(work, eq(accessRequests.beneficiaryId, account.id), `${account.handle}'s operator changed`);
    return { ...result, changed: true };
  });
};
