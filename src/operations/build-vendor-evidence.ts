import { and, gt, isNull, lt, or, sql } from 'drizzle-orm';
import { z } from 'zod';
import type { AuditRecord } from '../audit/search.js';
import { TenureError } from '../domain/errors.js';
import { readsThatMayLag } from '../store/database.js';
import { grants } from '../store/schema.js';
import type { Context } from '../work/context.js';
import { loadActor } from './authorize.js';
import { allEvents, assemblePack } from './build-evidence-pack.js';
import { instant, parseInput, ref } from './input.js';
import { showVendor, vendorGrants, vendorMembers, visibleVendor } from './show-vendor.js';

export const Input = z.object({
  vendor: ref,
  from: instant.optional().describe('start of the period (default: when the vendor was registered)'),
  to: instant.optional().describe('end of the period, exclusive (default: now)'),
}).strict();

/** The vendor's own events (registered, contract end moved or carried out, reminded): they name no identity. */
const VENDOR_ACTIONS = ['vendor.created', 'vendor.contract_end_changed', 'vendor.contract_ended', 'vendor.expiring_soon'];

/** What the contract and its end did: the vendor's events, engagements started and ended, accounts moved to it or suspended, credentials to retire. */
const CONTRACT_ACTIONS = [...VENDOR_ACTIONS, 'engagement.created', 'engagement.end_changed', 'engagement.ended', 'identity.operator_changed', 'identity.status_changed',
  'credential.registered', 'credential.retirement_due', 'credential.retired'];

/**
 * The evidence pack of a vendor: what `showVendor` shows now (people, engagements, service accounts,
 * live grants, open findings), every grant held through the vendor at any time in the period, and
 * every audit event of its people and service accounts and of the vendor itself in the period, each
 * with its chain position and hash. Seen by IAM, security, auditors and the relationship owner.
 */
export const buildVendorEvidence = async (ctx: Context, input: z.input<typeof Input>) => {
  const data = parseInput(Input, input);
  // Who may see the vendor is decided on the primary; its history is a report and may lag (docs/high-availability.md).
  const vendor = await visibleVendor(ctx.store.db, await loadActor(ctx.store.db, ctx.actor.id), data.vendor);
  const exec = readsThatMayLag(ctx.store);
  const from = data.from ?? vendor.createdAt;
  // By default up to and including this moment (the bound is exclusive): an end carried out just now is in the pack.
  const to = data.to ?? new Date(ctx.clock.now().getTime() + 1);
  if (from.getTime() >= to.getTime()) throw new TenureError('input.invalid', 'to: must be after from', { field: 'to' });
  const members = await vendorMembers(exec, vendor.id);
  // One member at a time: the identity index serves each, and a pool is not flooded by a large vendor.
  const seen = new Map<number, AuditRecord>();
  for (const m of members) for (const event of await allEvents(exec, { identityId: m.id, from, to })) seen.set(event.seq, event);
  for (const event of await allEvents(exec, { subjectId: vendor.id, action: VENDOR_ACTIONS, from, to })) seen.set(event.seq, event);
  const events = [...seen.values()].sort((a, b) => a.seq - b.seq);
  // Held in the period: started before its end, and not ended (nor due to end) before its start.
  const ending = sql`coalesce(${grants.endedAt}, ${grants.endsAt})`;
  const heldInPeriod = await vendorGrants(exec, vendor.id, and(lt(grants.startsAt, to), or(isNull(ending), gt(ending, from))));
  const pack = await assemblePack(ctx, `vendor ${vendor.name}`, events, heldInPeriod.map(({ g, entitlement }) => ({ g, key: entitlement })),
    { contract: CONTRACT_ACTIONS });
  return { ...pack, period: { from, to }, vendor: await showVendor(ctx, vendor.id) };
};
