import { and, asc, eq, or, sql, type SQL } from 'drizzle-orm';
import { z } from 'zod';
import { findIdentity, handlesById } from '../store/queries/identities.js';
import { engagements, vendors } from '../store/schema.js';
import { ENGAGEMENT_STATUSES } from '../domain/model.js';
import { loadActor, may, refuseUnless } from './authorize.js';
import { approvesPendingFor } from './lib/approval/pending-approver.js';
import type { Context } from '../work/context.js';
import { parseInput, ref } from './input.js';
import { cursorField, decodeCursor, encodeCursor, pageOf } from './lib/cursor.js';

export const Input = z.object({
  identity: ref.optional(),
  status: z.enum(ENGAGEMENT_STATUSES).optional(),
  limit: z.number().int().min(1).max(5000).default(500),
  cursor: cursorField,
}).strict();

/**
 * Engagements with their vendor, sponsor, end and scope, soonest end first: everyone's for IAM,
 * security and auditors; otherwise one's own and those one sponsors.
 */
export const listEngagements = async (ctx: Context, input: z.input<typeof Input> = {}) => {
  const data = parseInput(Input, input);
  const after = decodeCursor(data.cursor, 'date');
  const exec = ctx.store.db;
  const acting = await loadActor(exec, ctx.actor.id);
  const me = acting.identity.id;
  const readAll = may(acting, 'identity.read_all');
  const who = data.identity ? await findIdentity(exec, data.identity, 'identity') : undefined;
  const ownOrSponsored = who !== undefined && (who.id === me || who.sponsorId === me);
  // A pending approver reads the beneficiary's engagements to decide; the filter below then lets them through.
  const approver = who !== undefined && !readAll && !ownOrSponsored && await approvesPendingFor(exec, who.id, me);
  if (who) refuseUnless(readAll || ownOrSponsored || approver, `you may not see the engagements of ${who.handle}`, 'identity');
  const filters: (SQL | undefined)[] = [
    who ? eq(engagements.identityId, who.id) : undefined,
    readAll || approver ? undefined : or(eq(engagements.identityId, me), eq(engagements.sponsorId, me)),
    data.status ? eq(engagements.status, data.status) : undefined,
    after ? sql`(${engagements.endsAt}, ${engagements.id}) > (${after.key}::timestamptz, ${after.id}::uuid)` : undefined,
  ];
  const rows = await exec.select({ e: engagements, vendor: vendors.name }).from(engagements)
    .innerJoin(vendors, eq(engagements.vendorId, vendors.id))
    .where(and(...filters)).orderBy(asc(engagements.endsAt), asc(engagements.id)).limit(data.limit);
  const handles = await handlesById(exec, rows.flatMap(({ e }) => [e.identityId, e.sponsorId]));
  return rows.map(({ e, vendor }) => ({
    id: e.id, identity: handles.get(e.identityId), vendor, sponsor: handles.get(e.sponsorId), status: e.status,
    purpose: e.purpose, startsAt: e.startsAt, endsAt: e.endsAt, scope: e.scope, dataSensitivity: e.dataSensitivity,
  }));
};

export const pageEngagements = async (ctx: Context, input: z.input<typeof Input> = {}) => {
  const limit = parseInput(Input, input).limit;
  return pageOf(await listEngagements(ctx, input), limit, (e) => encodeCursor(e.endsAt, e.id));
};
