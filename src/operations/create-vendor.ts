import { eq } from 'drizzle-orm';
import { z } from 'zod';
import { TenureError } from '../domain/errors.js';
import { newId, NOT_UUID_RULE, NOT_UUID_SHAPED } from '../domain/ids.js';
import { VENDOR_KINDS } from '../domain/model.js';
import { CONTRACT_END_RULE, contractEndAllowed } from '../domain/vendors.js';
import { findIdentity } from '../store/queries/identities.js';
import { vendors } from '../store/schema.js';
import { authorize } from './authorize.js';
import { inTransaction, type Context } from '../work/context.js';
import { instant, parseInput, ref, text } from './input.js';

export const Input = z.object({
  name: text(200).regex(NOT_UUID_SHAPED, NOT_UUID_RULE), kind: z.enum(VENDOR_KINDS), relationshipOwner: ref, contractEnd: instant,
}).strict();

export const createVendor = async (ctx: Context, input: z.input<typeof Input>) => {
  const data = parseInput(Input, input);
  return inTransaction(ctx, async (work) => {
    await authorize(work, 'vendor.create');
    if (!contractEndAllowed(data.contractEnd, work.now)) {
      throw new TenureError('vendor.invalid_contract_end', `contractEnd: ${CONTRACT_END_RULE}`, { field: 'contractEnd' });
    }
    const [taken] = await work.tx.select({ id: vendors.id }).from(vendors).where(eq(vendors.name, data.name));
    if (taken) throw new TenureError('vendor.name_taken', `vendor ${data.name} exists`, { field: 'name' });
    const owner = await findIdentity(work.tx, data.relationshipOwner, 'relationshipOwner');
    if (owner.kind !== 'employee' || owner.status !== 'active') {
      throw new TenureError('input.invalid', 'relationshipOwner: must be an active employee', { field: 'relationshipOwner' });
    }
    const row = { id: newId(), name: data.name, kind: data.kind, relationshipOwnerId: owner.id,
      contractEnd: data.contractEnd, createdAt: work.now };
    await work.tx.insert(vendors).values(row);
    work.record({ action: 'vendor.created', subject: { type: 'vendor', id: row.id },
      after: { name: row.name, kind: row.kind, relationshipOwnerId: owner.id, contractEnd: row.contractEnd } });
    return row;
  });
};
