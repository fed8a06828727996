import { eq } from 'drizzle-orm';
import { z } from 'zod';
import { TenureError } from '../domain/errors.js';
import { newId } from '../domain/ids.js';
import { contractOver } from '../domain/vendors.js';
import { IDENTITY_KINDS, isHuman, isNonEmployee, type IdentityKind } from '../domain/model.js';
import { compileSharedPatterns, looksShared } from '../domain/provisioning.js';
import type { Tx } from '../store/database.js';
import { findIdentity, type Identity } from '../store/queries/identities.js';
import { findVendor } from '../store/queries/vendors.js';
import { identities, type vendors } from '../store/schema.js';
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
  /** A person's employer; for a service account, the vendor that operates it (the same as operatedBy). */
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

type Named = { field: 'operatedBy' | 'vendor'; vendor: typeof vendors.$inferSelect };

/**
 * A service account has one vendor link, its operator (the vendor whose end suspends it): `vendor`
 * names it as well as `operatedBy` does, and naming two different vendors is refused rather than
 * one of them kept. Nobody else is operated; not by a vendor whose contract has already ended either.
 */
const operatingVendor = async (tx: Tx, data: z.infer<typeof Input>, now: Date) => {
  if (data.kind !== 'service_account') {
    if (data.operatedBy) throw new TenureError('vendor.not_operator', 'operatedBy: only a service account is operated by a vendor', { field: 'operatedBy' });
    return undefined;
  }
  const named: Named[] = [];
  for (const field of ['operatedBy', 'vendor'] as const) {
    const refValue = data[field];
    if (refValue) named.push({ field, vendor: await findVendor(tx, refValue, field) });
  }
  const [first, second] = named;
  if (!first) return undefined;
  if (second && second.vendor.id !== first.vendor.id) {
    throw new TenureError('identity.vendor_conflict', `vendor: ${second.vendor.name} is not ${first.vendor.name}, which operatedBy names; ` +
      "a service account's one vendor is its operator", { field: 'vendor' });
  }
  if (contractOver(first.vendor, now)) {
    throw new TenureError('vendor.invalid_contract_end', `${first.field}: the contract of ${first.vendor.name} has ended`, { field: first.field });
  }
  return first.vendor;
};

const resolveLinks = async (tx: Tx, data: z.infer<typeof Input>, now: Date) => {
  const manager: Identity | undefined = data.manager ? await findIdentity(tx, data.manager, 'manager') : undefined;
  const sponsor = isNonEmployee(data.kind) ? await accountableEmployee(tx, data.sponsor, 'sponsor', data.kind) : undefined;
  const owner = data.kind === 'service_account' ? await accountableEmployee(tx, data.owner, 'owner', data.kind) : undefined;
  if (!isNonEmployee(data.kind) && data.sponsor) {
    throw new TenureError('input.invalid', 'sponsor: only contractors and vendor operators have a sponsor', { field: 'sponsor' });
  }
  if (isHuman(data.kind) && data.owner) {
    throw new TenureError('input.invalid', 'owner: only service accounts have an owner', { field: 'owner' });
  }
  // A person's employer; a service account's `vendor` is its operator (above).
  const vendor = data.vendor && data.kind !== 'service_account' ? await findVendor(tx, data.vendor) : undefined;
  return { manager, sponsor, owner, vendor, operator: await operatingVendor(tx, data, now) };
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
    const links = await resolveLinks(work.tx, data, work.now);
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
