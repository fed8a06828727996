import { and, eq } from 'drizzle-orm';
import { z } from 'zod';
import { TenureError } from '../domain/errors.js';
import { CONTRACT_END_RULE, contractEndAllowed, contractEnded } from '../domain/vendors.js';
import type { Executor } from '../store/database.js';
import { findVendor, recordedVendorId } from '../store/queries/vendors.js';
import { engagements, identities, vendors } from '../store/schema.js';
import { loadActor, may, requireMayAct, refuseUnless, type ActingIdentity } from './authorize.js';
import { inTransaction, type Context } from '../work/context.js';
import { instant, parseInput, ref, text } from './input.js';
import { capUnderVendor, endVendorWithin, lockVendorReach } from './lib/ending/vendor-end.js';

export const Input = z.object({ vendor: ref, contractEnd: instant, reason: text() }).strict();

/**
 * Whether the actor is of the vendor: recorded as its person, engaged through it (now or before), or
 * a service account it operates. Such an actor may not move the contract end, whatever their roles:
 * the date that ends a vendor's access is not the vendor's to set.
 */
const isOfVendor = async (exec: Executor, acting: ActingIdentity, vendorId: string): Promise<boolean> => {
  const me = acting.identity.id;
  const [recorded] = await exec.select({ id: identities.id }).from(identities)
    .where(and(eq(identities.id, me), eq(recordedVendorId, vendorId)));
  const [engaged] = await exec.select({ id: engagements.id }).from(engagements)
    .where(and(eq(engagements.vendorId, vendorId), eq(engagements.identityId, me)));
  return Boolean(recorded ?? engaged);
};

/**
 * Moves a vendor's contract end. Later: only the date moves (engagements keep theirs). Earlier:
 * every engagement ending after it is shortened to it, and what is under them. Now or past: the
 * contract ends at once, exactly as the worker would carry it out (see lib/ending/vendor-end.ts).
 */
export const changeVendorEnd = async (ctx: Context, input: z.input<typeof Input>) => {
  const data = parseInput(Input, input);
  return inTransaction(ctx, async (work) => {
    const acting = await loadActor(work.tx, work.actor.id);
    const seen = await findVendor(work.tx, data.vendor);
    requireMayAct(acting, {
      allowed: may(acting, 'vendor.change') || seen.relationshipOwnerId === acting.identity.id,
      readAll: 'vendor.read_all', notFound: () => new TenureError('vendor.not_found', `no vendor '${data.vendor}'`, { field: 'vendor' }),
      refusal: `only IAM or the vendor's relationship owner may change the contract end of ${seen.name}`, field: 'vendor',
    });
    refuseUnless(!(await isOfVendor(work.tx, acting, seen.id)),
      `${acting.identity.handle} is of ${seen.name}: someone of the vendor may not move its contract end`, 'vendor');
    if (!contractEndAllowed(data.contractEnd, work.now)) {
      throw new TenureError('vendor.invalid_contract_end', `contractEnd: ${CONTRACT_END_RULE}`, { field: 'contractEnd' });
    }
    // The decision point: the end is decided on the vendor row as locked. Engagement creation and
    // renewal read the contract end under FOR SHARE after locking their person, so once this commits
    // none of them can still cap an engagement by the old end, and the worker cannot apply the old end.
    const vendor = await lockVendorReach(work, seen.id);
    const ended = contractEnded(data.contractEnd, work.now);
    // A later end revives a contract already carried out (its people need new engagements all the same).
    await work.tx.update(vendors).set({ contractEnd: data.contractEnd, ...(ended ? {} : { endAppliedAt: null }) }).where(eq(vendors.id, vendor.id));
    work.record({ action: 'vendor.contract_end_changed', subject: { type: 'vendor', id: vendor.id },
      before: { contractEnd: vendor.contractEnd }, after: { contractEnd: data.contractEnd }, reason: data.reason });
    const result = { id: vendor.id, name: vendor.name, contractEnd: data.contractEnd, ended };
    const none = { engagementsEnded: 0, accountsSuspended: 0, grantsRevoked: 0, credentialsDue: 0, engagementsShortened: 0, grantsShortened: 0 };
    if (ended) {
      // Already carried out (an ended contract's date corrected): nothing is left to end.
      if (vendor.endAppliedAt) return { ...result, ...none };
      return { ...result, ...none, ...(await endVendorWithin(work, { ...vendor, contractEnd: data.contractEnd }, data.reason)) };
    }
    if (data.contractEnd >= vendor.contractEnd) return { ...result, ...none };
    return { ...result, ...none, ...(await capUnderVendor(work, vendor.id, data.contractEnd)) };
  });
};
