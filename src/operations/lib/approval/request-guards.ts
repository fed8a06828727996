import { and, eq, inArray } from 'drizzle-orm';
import { answersFor } from '../../../domain/accountability.js';
import { TenureError } from '../../../domain/errors.js';
import { isNonEmployee } from '../../../domain/model.js';
import type { Executor } from '../../../store/database.js';
import { activeEngagementOf, type Engagement } from '../../../store/queries/catalogue.js';
import { findIdentityById, type Identity } from '../../../store/queries/identities.js';
import { accessRequests, grants } from '../../../store/schema.js';
import { may, type ActingIdentity } from '../../authorize.js';

/** Anyone asks for themselves; sponsors, managers and owners for those they answer for; IAM for anyone. */
export const checkMayRequestFor = (acting: ActingIdentity, beneficiary: Identity): void => {
  const me = acting.identity.id;
  if (beneficiary.id === me || may(acting, 'request.on_behalf_of_anyone')) return;
  if (answersFor(beneficiary, me)) return;
  throw new TenureError('request.forbidden_on_behalf', `you may not request access for ${beneficiary.handle}`, { field: 'beneficiary' });
};

/**
 * The beneficiary must be active and still answered for: a contractor whose sponsor is gone gets no
 * new access (its running grants keep running to their end), nor does an NHI whose owner is gone.
 */
export const checkBeneficiaryStanding = async (exec: Executor, beneficiary: Identity): Promise<void> => {
  if (beneficiary.status !== 'active') {
    throw new TenureError('identity.not_active', `${beneficiary.handle} is ${beneficiary.status}`, { field: 'beneficiary' });
  }
  const accountableId = isNonEmployee(beneficiary.kind) ? beneficiary.sponsorId
    : beneficiary.kind === 'service_account' ? beneficiary.ownerId : undefined;
  if (accountableId === undefined) return;
  const accountable = accountableId ? await findIdentityById(exec, accountableId) : undefined;
  if (!accountable || accountable.status !== 'active') {
    throw new TenureError('identity.sponsor_inactive',
      `${beneficiary.handle} has no active ${beneficiary.kind === 'service_account' ? 'owner' : 'sponsor'}`, { field: 'beneficiary' });
  }
};

/** A non-employee's access belongs to an active engagement and never ends after it. */
export const checkEngagement = async (
  exec: Executor, beneficiary: Identity, endsAt: Date, now: Date,
): Promise<Engagement | undefined> => {
  if (!isNonEmployee(beneficiary.kind)) return undefined;
  const engagement = await activeEngagementOf(exec, beneficiary.id, now);
  if (!engagement) {
    throw new TenureError('engagement.required', `${beneficiary.handle} has no active engagement`, { field: 'beneficiary' });
  }
  if (endsAt.getTime() > engagement.endsAt.getTime()) {
    throw new TenureError('grant.exceeds_engagement_end',
      `endsAt: must not be after the engagement's end ${engagement.endsAt.toISOString()}`, { field: 'endsAt' });
  }
  return engagement;
};

/** One live grant or pending request per beneficiary and entitlement: a second would hide the first. */
export const checkNotDuplicate = async (exec: Executor, beneficiaryId: string, entitlementId: string): Promise<void> => {
  const [grant] = await exec.select({ id: grants.id }).from(grants).where(and(eq(grants.identityId, beneficiaryId),
    eq(grants.entitlementId, entitlementId), inArray(grants.status, ['scheduled', 'active'])));
  if (grant) throw new TenureError('request.duplicate', `already holds it (grant ${grant.id}); ask for an extension instead`, { field: 'entitlement' });
  const [pending] = await exec.select({ id: accessRequests.id }).from(accessRequests).where(and(
    eq(accessRequests.beneficiaryId, beneficiaryId), eq(accessRequests.entitlementId, entitlementId),
    eq(accessRequests.status, 'pending')));
  if (pending) throw new TenureError('request.duplicate', `a request for it is already pending (${pending.id})`, { field: 'entitlement' });
};
