import { eq } from 'drizzle-orm';
import { TenureError } from '../../domain/errors.js';
import { isUuid } from '../../domain/ids.js';
import type { Executor } from '../database.js';
import { vendors } from '../schema.js';

/** A vendor by id (when `ref` is UUID-shaped) or else by name, never either: one reference names one vendor. */
export const findVendor = async (exec: Executor, ref: string, field = 'vendor') => {
  const [row] = await exec.select().from(vendors).where(isUuid(ref) ? eq(vendors.id, ref) : eq(vendors.name, ref));
  if (!row) throw new TenureError('vendor.not_found', `no vendor '${ref}'`, { field });
  return row;
};
