import { and, eq, sql } from 'drizzle-orm';
import { TenureError } from '../../domain/errors.js';
import { isUuid } from '../../domain/ids.js';
import type { Executor } from '../database.js';
import { engagements, identities, vendors } from '../schema.js';

/**
 * The vendor an identity is of by its record: a service account's operator, anyone else's employer.
 * The schema keeps at most one of the two set (migration 0020), so this is never a choice between two.
 */
export const recordedVendorId = sql<string | null>`coalesce(${identities.operatedByVendorId}, ${identities.vendorId})`;

/** A vendor by id (when `ref` is UUID-shaped) or else by name, never either: one reference names one vendor. */
export const findVendor = async (exec: Executor, ref: string, field = 'vendor') => {
  const [row] = await exec.select().from(vendors).where(isUuid(ref) ? eq(vendors.id, ref) : eq(vendors.name, ref));
  if (!row) throw new TenureError('vendor.not_found', `no vendor '${ref}'`, { field });
  return row;
};

/**
 * Locks a vendor row. `share` is for reading its contract end to cap an engagement (creation,
 * renewal, a moved end); `update` for changing that end. In the lock order a vendor comes after the
 * people it reaches and before their engagements (see inTransaction).
 */
export const lockVendor = async (exec: Executor, id: string, strength: 'share' | 'update') => {
  const [row] = await exec.select().from(vendors).where(eq(vendors.id, id)).for(strength);
  if (!row) throw new TenureError('vendor.not_found', `no vendor '${id}'`, { field: 'vendor' });
  return row;
};

/**
 * Everyone a vendor's contract end reaches: the people of its active engagements and the service
 * accounts it operates that are still active. Read without locks; the caller locks them in id order.
 */
export const vendorReach = async (exec: Executor, vendorId: string): Promise<string[]> => {
  const people = await exec.select({ id: engagements.identityId }).from(engagements)
    .where(and(eq(engagements.vendorId, vendorId), eq(engagements.status, 'active')));
  const accounts = await exec.select({ id: identities.id }).from(identities)
    .where(and(eq(identities.operatedByVendorId, vendorId), eq(identities.status, 'active')));
  return [...new Set([...people, ...accounts].map((row) => row.id))];
};
