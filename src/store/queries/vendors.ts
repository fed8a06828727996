import { eq, or } from 'drizzle-orm';
import { TenureError } from '../../domain/errors.js';
import { isUuid } from '../../domain/ids.js';
import type { Executor } from '../database.js';
import { vendors } from '../schema.js';

export const findVendor = async (exec: Executor, ref: string, field = 'vendor') => {
  const [row] = await exec.select().from(vendors)
    .where(isUuid(ref) ? or(eq(vendors.id, ref), eq(vendors.name, ref)) : eq(vendors.name, ref));
  if (!row) throw new TenureError('vendor.not_found', `no vendor '${ref}'`, { field });
  return row;
};
