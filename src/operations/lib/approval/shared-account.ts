/**
 * A shared operational account (policy `shared_accounts`, docs/sessions.md) has at most one holder
 * for any moment: a check-out is a grant like any other, and this is the one extra rule, checked
 * wherever a grant of it is created (the last approval, break-glass).
 */
import { and, asc, eq, gt, inArray, isNull, lt, ne, or } from 'drizzle-orm';
import { TenureError } from '../../../domain/errors.js';
import { accessRequests, entitlements, grants, identities } from '../../../store/schema.js';
import type { Work } from '../../../work/context.js';

export interface CheckOut {
  entitlement: { id: string; key: string; sharedAccount: boolean };
  startsAt: Date;
  /** null: no end (a policy without a maximum for the tier); such a check-out overlaps every later one. */
  endsAt: Date | null;
  /** An extension moves the end of this grant: it is not another holder. */
  except?: string | undefined;
}

export interface Holder { handle: string; grant: string; from: string; until: string | null }

/**
 * Who holds the shared account during the check-out's window (the first of them), or undefined when
 * it is free or the entitlement is not a shared account. Call it before anything else locks the
 * entitlement row in the transaction (a FOR SHARE taken first would have to be upgraded, and two
 * approvals upgrading at once deadlock).
 */
export const findSharedAccountHolder = async (work: Work, checkOut: CheckOut): Promise<Holder | undefined> => {
  const { entitlement } = checkOut;
  if (!entitlement.sharedAccount) return undefined;
  // FOR UPDATE on the entitlement row: every check-out of this account takes it before looking for
  // another holder, so of two approvals committing at once the second waits here, then sees the
  // first's grant and is refused. Without it both would read "nobody holds it" and both would insert.
  const [row] = await work.tx.select({ shared: entitlements.sharedAccount }).from(entitlements)
    .where(eq(entitlements.id, entitlement.id)).for('update');
  if (!row?.shared) return undefined;
  const overlaps = and(
    eq(grants.entitlementId, entitlement.id), inArray(grants.status, ['scheduled', 'active']),
    checkOut.except ? ne(grants.id, checkOut.except) : undefined,
    checkOut.endsAt ? lt(grants.startsAt, checkOut.endsAt) : undefined,
    or(isNull(grants.endsAt), gt(grants.endsAt, checkOut.startsAt)),
  );
  const [holder] = await work.tx.select({ grantId: grants.id, handle: identities.handle, startsAt: grants.startsAt, endsAt: grants.endsAt })
    .from(grants).innerJoin(identities, eq(identities.id, grants.identityId)).where(overlaps).orderBy(asc(grants.startsAt)).limit(1);
  if (!holder) return undefined;
  return { handle: holder.handle, grant: holder.grantId, from: holder.startsAt.toISOString(), until: holder.endsAt?.toISOString() ?? null };
};

/** The refusal that names who holds the account and until when. */
export const checkedOut = (key: string, holder: Holder): TenureError => new TenureError('shared_account.checked_out',
  `${key} is checked out by ${holder.handle} from ${holder.from} until ${holder.until ?? 'no set end'}; ask again after it is checked in`,
  { field: 'entitlement', details: { holder } });

/** Refuses a check-out whose window overlaps another live (scheduled or active) grant of the same shared account. */
export const claimSharedAccount = async (work: Work, checkOut: CheckOut): Promise<void> => {
  const holder = await findSharedAccountHolder(work, checkOut);
  if (holder) throw checkedOut(checkOut.entitlement.key, holder);
};

/**
 * Whether check-outs queued before this request still wait for the account (check-out-queue.ts):
 * then a request approved just after a check-in, before the worker pass, joins the line behind
 * them instead of taking the account first. Read under the account's row lock, as the holder is.
 */
export const othersWaitFirst = async (work: Work, request: { id: string; entitlementId: string; queueSeq: number | null }): Promise<boolean> => {
  const [ahead] = await work.tx.select({ id: accessRequests.id }).from(accessRequests).where(and(
    eq(accessRequests.entitlementId, request.entitlementId), eq(accessRequests.status, 'queued'), ne(accessRequests.id, request.id),
    request.queueSeq === null ? undefined : lt(accessRequests.queueSeq, request.queueSeq))).limit(1);
  return ahead !== undefined;
};
