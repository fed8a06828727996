import { desc, eq } from 'drizzle-orm';
import { z } from 'zod';
import { TenureError } from '../domain/errors.js';
import { handlesById } from '../store/queries/identities.js';
import { engagements, entitlements, grants, systems, vendors } from '../store/schema.js';
import { loadActor, requireVisible } from './authorize.js';
import { approvesPendingFor } from './lib/approval/pending-approver.js';
import type { Context } from '../work/context.js';
import { parseInput } from './input.js';

/**
 * One engagement with its scope, end, sponsor and every grant issued under it (newest first). Seen by
 * the engaged person, their sponsor, an approver of a request of theirs waiting for them, and readers of
 * all identities; to anyone else it does not exist, so an id cannot be probed for.
 */
export const showEngagement = async (ctx: Context, engagementId: string) => {
  const { engagement: id } = parseInput(z.object({ engagement: z.uuid('must be an engagement id') }), { engagement: engagementId });
  const exec = ctx.store.db;
  const acting = await loadActor(exec, ctx.actor.id);
  const [row] = await exec.select({ e: engagements, vendor: vendors.name }).from(engagements)
    .innerJoin(vendors, eq(engagements.vendorId, vendors.id)).where(eq(engagements.id, id));
  const missing = () => new TenureError('engagement.not_found', `no engagement '${engagementId}'`, { field: 'engagement' });
  if (!row) throw missing();
  const me = acting.identity.id;
  const involved = row.e.identityId === me || row.e.sponsorId === me || await approvesPendingFor(exec, row.e.identityId, me);
  requireVisible(acting, involved, 'identity.read_all', missing);
  const { e, vendor } = row;
  const under = await exec.select({ g: grants, entitlement: entitlements.key, tier: entitlements.tier, system: systems.key }).from(grants)
    .innerJoin(entitlements, eq(grants.entitlementId, entitlements.id)).innerJoin(systems, eq(entitlements.systemId, systems.id))
    .where(eq(grants.engagementId, e.id)).orderBy(desc(grants.createdAt), desc(grants.id));
  const handles = await handlesById(exec, [e.identityId, e.sponsorId, ...under.map((u) => u.g.identityId)]);
  return {
    id: e.id, identity: handles.get(e.identityId), vendor, sponsor: handles.get(e.sponsorId), status: e.status,
    purpose: e.purpose, startsAt: e.startsAt, endsAt: e.endsAt, scope: e.scope, dataSensitivity: e.dataSensitivity,
    grants: under.map(({ g, entitlement, tier, system }) => ({
      id: g.id, identity: handles.get(g.identityId), entitlement, tier, system, origin: g.origin, status: g.status,
      provisioningState: g.provisioningState, startsAt: g.startsAt, endsAt: g.endsAt, endedAt: g.endedAt, endReason: g.endReason,
    })),
  };
};
