import { asc, eq } from 'drizzle-orm';
import { TenureError } from '../domain/errors.js';
import { allows } from '../domain/permissions.js';
import { findIdentity, handlesById } from '../store/queries/identities.js';
import { engagements, vendors } from '../store/schema.js';
import { loadActor } from './authorize.js';
import type { Context } from './context.js';

/**
 * Engagements with their vendor, sponsor, end and scope: everyone's for IAM, security and auditors;
 * otherwise one's own and those one sponsors.
 */
export const listEngagements = async (ctx: Context, input: { identity?: string | undefined } = {}) => {
  const exec = ctx.store.db;
  const acting = await loadActor(exec, ctx.actor.id);
  const readAll = allows(acting.roles, 'identity.read_all');
  const who = input.identity ? await findIdentity(exec, input.identity) : undefined;
  const rows = await exec.select({ e: engagements, vendor: vendors.name }).from(engagements)
    .innerJoin(vendors, eq(engagements.vendorId, vendors.id))
    .where(who ? eq(engagements.identityId, who.id) : undefined).orderBy(asc(engagements.endsAt));
  const visible = rows.filter(({ e }) => readAll || e.identityId === acting.identity.id || e.sponsorId === acting.identity.id);
  if (who && visible.length < rows.length) throw new TenureError('actor.forbidden', `you may not see the engagements of ${who.handle}`);
  const handles = await handlesById(exec, visible.flatMap(({ e }) => [e.identityId, e.sponsorId]));
  return visible.map(({ e, vendor }) => ({
    id: e.id, identity: handles.get(e.identityId), vendor, sponsor: handles.get(e.sponsorId), status: e.status,
    purpose: e.purpose, startsAt: e.startsAt, endsAt: e.endsAt, scope: e.scope, dataSensitivity: e.dataSensitivity,
  }));
};
