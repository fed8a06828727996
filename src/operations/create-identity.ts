import { eq } from 'drizzle-orm';
import { z } from 'zod';
import { TenureError } from '../domain/errors.js';
import { newId } from '../domain/ids.js';
import { IDENTITY_KINDS, isHuman, isNonEmployee, type IdentityKind } from '../domain/model.js';
import { compileSharedPatterns, looksShared } from '../domain/provisioning.js';
import type { Tx } from '../store/database.js';
import { findIdentity, type Identity } from '../store/queries/identities.js';
import { findVendor } from '../store/queries/vendors.js';
import { identities } from '../store/schema.js';
import { authorize } from './authorize.js';
import { sharedAccountPatterns } from './lib/provisioning/settings.js';
import { inTransaction, type Context } from '../work/context.js';
import { handle, parseInput, ref, text } from './input.js';

export const Input = z.object({
  handle,
  displayName: text(200),
  kind: z.enum(IDENTITY_KINDS),
  email: z.email().optional(),
  manager: ref.optional(),
  sponsor: ref.optional(),
  owner: ref.optional(),
  vendor: ref.optional(),
  /** A service account a vendor runs for us: the vendor's contract end suspends it. */
  operatedBy: ref.optional(),
  department: text(200).optional(),
  title: text(200).optional(),
}).strict();
export type CreateIdentityInput = z.input<typeof Input>;

/** A non-employee's sponsor and a service account's owner must be active employees: someone accountable. */
const accountableEmployee = async (tx: Tx, refValue: string | undefined, field: string, kind: IdentityKind) => {
  const code = field === 'sponsor' ? 'identity.sponsor_required' : 'identity.owner_required';
  if (!refValue) throw new TenureError(code, `a ${kind} needs an active employee ${field}`, { field });
  const person = await findIdentity(tx, refValue, field);
  if (person.kind !== 'employee' || person.status !== 'active') {
    throw new TenureError(code, `${field} ${person.handle} must be an active employee (is ${person.status} ${person.kind})`, { field });
  }
  return person;
};

/** Only a service account is operated by a vendor, and not by one whose contract has already ended. */
const operatingVendor = async (tx: Tx, data: z.infer<typeof Input>) => {
  if (!data.operatedBy) return undefined;
  if (data.kind !== 'service_account') {
    throw new TenureError('vendor.not_operator', 'operatedBy: only a service account is operated by a vendor', { field: 'operatedBy' });
  }
  const vendor = await findVendor(tx, data.operatedBy, 'operatedBy');
  if (vendor.endAppliedAt) {
    throw new TenureError('vendor.invalid_contract_end', `operatedBy: the contract of ${vendor.name} has ended`, { field: 'operatedBy' });
  }
  return vendor;
};

const resolveLinks = async (tx: Tx, data: z.infer<typeof Input>) => {
  const manager: Identity | undefined = data.manager ? await findIdentity(tx, data.manager, 'manager') : undefined;
  const sponsor = isNonEmployee(data.kind) ? await accountableEmployee(tx, data.sponsor, 'sponsor', data.kind) : undefined;
  const owner = data.kind === 'service_account' ? await accountableEmployee(tx, data.owner, 'owner', data.kind) : undefined;
  if (!isNonEmployee(data.kind) && data.sponsor) {
    throw new TenureError('input.invalid', 'sponsor: only contractors and vendor operators have a sponsor', { field: 'sponsor' });
  }
  if (isHuman(data.kind) && data.owner) {
    throw new TenureError('input.invalid', 'owner: only service accounts have an owner', { field: 'owner' });
  }
  const vendor = data.vendor ? await findVendor(tx, data.vendor) : undefined;
  return { manager, sponsor, owner, vendor, operator: await operatingVendor(tx, data) };
};

/**
 * People get named, unshared accounts: a handle that matches the policy's shared-account patterns is
 * refused for a person, so "who did what" never ends at `ops`. Such an account is a service account
 * with an owner. HR hires are left alone: their handle is derived from a real person's name.
 */
const refuseSharedHandle = async (tx: Tx, handleValue: string, kind: IdentityKind) => {
  if (!isHuman(kind) || !looksShared(handleValue, compileSharedPatterns(await sharedAccountPatterns(tx)))) return;
  throw new TenureError('identity.shared_handle', `handle ${handleValue} reads as a shared account (it matches the policy's ` +
    'provisioning.shared_account_patterns): give the person a handle of their own, or register a service_account with an owner', { field: 'handle' });
};

export const createIdentity = async (ctx: Context, input: CreateIdentityInput) => {
  const data = parseInput(Input, input);
  return inTransaction(ctx, async (work) => {
    await authorize(work, 'identity.create');
    const [taken] = await work.tx.select({ id: identities.id }).from(identities).where(eq(identities.handle, data.handle));
    if (taken) throw new TenureError('identity.handle_taken', `handle ${data.handle} is taken`, { field: 'handle' });
    await refuseSharedHandle(work.tx, data.handle, data.kind);
    const links = await resolveLinks(work.tx, data);
    const row = {
      id: newId(), handle: data.handle, displayName: data.displayName, email: data.email ?? null,
      kind: data.kind, status: 'active', managerId: links.manager?.id ?? null, sponsorId: links.sponsor?.id ?? null,
      ownerId: links.owner?.id ?? null, vendorId: links.vendor?.id ?? null, operatedByVendorId: links.operator?.id ?? null,
      department: data.department ?? null, title: data.title ?? null, createdBy: work.actor.id ?? null, createdAt: work.now, updatedAt: work.now,
    } satisfies typeof identities.$inferInsert;
    await work.tx.insert(identities).values(row);
    work.record({ action: 'identity.created', subject: { type: 'identity', id: row.id }, identityId: row.id,
      after: { handle: row.handle, kind: row.kind, sponsorId: row.sponsorId, ownerId: row.ownerId, managerId: row.managerId,
        ...(row.operatedByVendorId ? { operatedByVendorId: row.operatedByVendorId } : {}) } });
    return row;
  });
};
