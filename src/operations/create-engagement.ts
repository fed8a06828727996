import { z } from 'zod';
import { TenureError } from '../domain/errors.js';
import { newId } from '../domain/ids.js';
import { DATA_SENSITIVITIES, ENGAGEMENT_PATTERNS, isNonEmployee } from '../domain/model.js';
import { loadAppliedPolicy } from '../policy/applied.js';
import { findIdentity, lockIdentity, type Identity } from '../store/queries/identities.js';
import { findVendor, lockVendor } from '../store/queries/vendors.js';
import { engagements } from '../store/schema.js';
import { authorize } from './authorize.js';
import { inTransaction, type Context, type Work } from '../work/context.js';
import { instant, parseInput, ref, text } from './input.js';
import { birthrightCatalogue, syncBirthright } from './lib/hr/birthright.js';
import { currentAttributes } from './lib/hr/match.js';

export const Input = z.object({
  identity: ref, vendor: ref, sponsor: ref.optional(),
  businessFunction: text(200), purpose: text(1000), pattern: z.enum(ENGAGEMENT_PATTERNS),
  startsAt: instant.optional(), endsAt: instant,
  dataSensitivity: z.enum(DATA_SENSITIVITIES),
  scope: z.array(z.string().regex(/^[a-z0-9-]+(\/[a-z0-9-]+)?$/, 'must be a system key or system/entitlement key')).min(1, 'must name at least one system or entitlement'),
}).strict();
export type CreateEngagementInput = z.input<typeof Input>;

/** A contractor from the HR feed gets the birthright their attributes give once an engagement holds it (inside its scope, to its end). */
const grantEngagementBirthright = async (work: Work, person: Identity) => {
  if (!person.employeeId || person.status !== 'active') return;
  const policy = await loadAppliedPolicy(work.tx);
  const profiles = policy.accessProfiles ?? [];
  if (profiles.length === 0) return;
  await syncBirthright(work, { id: person.id, kind: person.kind, attributes: currentAttributes(person) }, profiles,
    await birthrightCatalogue(work.tx), 'engagement started', policy.separationOfDuties);
};

/** Why a non-employee is here, for how long, and what they may touch: it caps all of their grants. */
export const createEngagement = async (ctx: Context, input: CreateEngagementInput) => {
  const data = parseInput(Input, input);
  return inTransaction(ctx, async (work) => {
    await authorize(work, 'engagement.create');
    // The person's identity first (the lock order beside inTransaction): birthright may grant them access below.
    const person = await lockIdentity(work.tx, (await findIdentity(work.tx, data.identity, 'identity')).id);
    if (!isNonEmployee(person.kind)) {
      throw new TenureError('engagement.not_for_employee', `${person.handle} is a ${person.kind}`, { field: 'identity' });
    }
    // FOR SHARE: a contract end being moved now is waited for, so this engagement is capped by the end that stands.
    const vendor = await lockVendor(work.tx, (await findVendor(work.tx, data.vendor)).id, 'share');
    const sponsor = data.sponsor ? await findIdentity(work.tx, data.sponsor, 'sponsor')
      : person.sponsorId ? await findIdentity(work.tx, person.sponsorId, 'sponsor') : undefined;
    if (!sponsor || sponsor.kind !== 'employee' || sponsor.status !== 'active') {
      throw new TenureError('identity.sponsor_inactive', 'an engagement needs an active employee sponsor', { field: 'sponsor' });
    }
    const startsAt = data.startsAt ?? work.now;
    if (data.endsAt.getTime() <= startsAt.getTime() || data.endsAt.getTime() <= work.now.getTime()) {
      throw new TenureError('engagement.invalid_dates', 'endsAt: must be after startsAt and in the future', { field: 'endsAt' });
    }
    if (data.endsAt.getTime() > vendor.contractEnd.getTime()) {
      throw new TenureError('engagement.invalid_dates', `endsAt: must not be after the vendor's contract end ${vendor.contractEnd.toISOString()}`, { field: 'endsAt' });
    }
    const row = {
      id: newId(), identityId: person.id, vendorId: vendor.id, sponsorId: sponsor.id,
      businessFunction: data.businessFunction, purpose: data.purpose, pattern: data.pattern,
      startsAt, endsAt: data.endsAt, dataSensitivity: data.dataSensitivity, scope: data.scope,
      status: 'active', createdAt: work.now,
    } satisfies typeof engagements.$inferInsert;
    await work.tx.insert(engagements).values(row);
    work.record({ action: 'engagement.created', subject: { type: 'engagement', id: row.id }, identityId: person.id,
      after: { vendorId: vendor.id, sponsorId: sponsor.id, purpose: row.purpose, startsAt, endsAt: row.endsAt, scope: row.scope } });
    await grantEngagementBirthright(work, person);
    return row;
  });
};
