import { and, eq, gt, inArray, isNull } from 'drizzle-orm';
import { engagements, identities, vendors } from '../../../store/schema.js';
import { credentials } from '../../../store/schema-credentials.js';
import { lockIdentities } from '../../../store/queries/identities.js';
import { lockVendor, vendorReach } from '../../../store/queries/vendors.js';
import type { Work } from '../../../work/context.js';
import { endIdentity } from './end-identity.js';
import { capUnderEngagement, endEngagementWithin } from './engagement-end.js';

type Vendor = typeof vendors.$inferSelect;

/**
 * Locks what a vendor's contract end reaches, in the lock order: its people and operated service
 * accounts (ascending id), then the vendor itself. Returns the vendor as locked.
 */
export const lockVendorReach = async (work: Work, vendorId: string) => {
  const first = await vendorReach(work.tx, vendorId);
  await lockIdentities(work.tx, first);
  const vendor = await lockVendor(work.tx, vendorId, 'update');
  // Someone engaged while this waited for the vendor (their engagement committed meanwhile): locked
  // too, out of order. Whoever engaged them has committed; only a second engagement of that same
  // person started at this very moment could wait on the vendor while holding them, a deadlock the
  // server breaks and inTransaction's bounded retry runs again.
  const late = (await vendorReach(work.tx, vendorId)).filter((id) => !first.includes(id));
  await lockIdentities(work.tx, late);
  return vendor;
};

/**
 * The Tenure side of retiring a credential whose secret lives elsewhere: it is flagged as due, with
 * an audit event, for its owner to revoke the secret where it works and then retire it.
 */
const flagCredentialsForRetirement = async (work: Work, accountIds: string[], reason: string) => {
  if (accountIds.length === 0) return 0;
  const flagged = await work.tx.update(credentials).set({ retirementDueAt: work.now })
    .where(and(inArray(credentials.identityId, accountIds), eq(credentials.status, 'active'), isNull(credentials.retirementDueAt)))
    .returning({ id: credentials.id, identityId: credentials.identityId, systemId: credentials.systemId });
  for (const c of flagged) {
    work.record({ action: 'credential.retirement_due', subject: { type: 'credential', id: c.id }, identityId: c.identityId,
      systemId: c.systemId, before: { retirementDueAt: null }, after: { retirementDueAt: work.now }, reason });
  }
  return flagged.length;
};

/**
 * Carries out a vendor's contract end in the caller's transaction (the caller holds `lockVendorReach`):
 * every active engagement under it ended (its grants revoked, so removal jobs are queued by the
 * grants' triggers), every service account it operates suspended (grants revoked, tokens ended) and
 * their credentials flagged for retirement. Marked applied, so the worker does it once.
 */
export const endVendorWithin = async (work: Work, vendor: Vendor, reason: string) => {
  const why = `vendor contract ended: ${reason}`;
  const accounts = await work.tx.select().from(identities)
    .where(and(eq(identities.operatedByVendorId, vendor.id), eq(identities.status, 'active')));
  const active = await work.tx.select().from(engagements)
    .where(and(eq(engagements.vendorId, vendor.id), eq(engagements.status, 'active'))).for('update');
  let revoked = 0;
  for (const engagement of active) revoked += (await endEngagementWithin(work, engagement, why)).revoked;
  for (const account of accounts) revoked += (await endIdentity(work, account, 'suspended', why)).revoked;
  const allOperated = await work.tx.select({ id: identities.id }).from(identities).where(eq(identities.operatedByVendorId, vendor.id));
  const credentialsDue = await flagCredentialsForRetirement(work, allOperated.map((a) => a.id), why);
  await work.tx.update(vendors).set({ endAppliedAt: work.now }).where(eq(vendors.id, vendor.id));
  const outcome = { engagementsEnded: active.length, accountsSuspended: accounts.length, grantsRevoked: revoked, credentialsDue };
  work.record({ action: 'vendor.contract_ended', subject: { type: 'vendor', id: vendor.id },
    before: { endAppliedAt: null }, after: { endAppliedAt: work.now, contractEnd: vendor.contractEnd, ...outcome }, reason });
  return outcome;
};

/**
 * An engagement never ends after its vendor's contract: moving the contract end earlier moves every
 * later engagement end to it (with its own audit event), and so every grant and request under it.
 */
export const capUnderVendor = async (work: Work, vendorId: string, newEnd: Date) => {
  const longer = await work.tx.select().from(engagements)
    .where(and(eq(engagements.vendorId, vendorId), eq(engagements.status, 'active'), gt(engagements.endsAt, newEnd))).for('update');
  let grantsShortened = 0;
  for (const engagement of longer) {
    await work.tx.update(engagements).set({ endsAt: newEnd }).where(eq(engagements.id, engagement.id));
    work.record({ action: 'engagement.end_changed', subject: { type: 'engagement', id: engagement.id }, identityId: engagement.identityId,
      before: { endsAt: engagement.endsAt }, after: { endsAt: newEnd }, reason: 'vendor contract end moved earlier' });
    grantsShortened += (await capUnderEngagement(work, engagement, newEnd)).grantsShortened;
  }
  return { engagementsShortened: longer.length, grantsShortened };
};
