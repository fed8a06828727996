import { and, desc, eq, inArray, sql, type SQL } from 'drizzle-orm';
import { z } from 'zod';
import { answersFor } from '../domain/accountability.js';
import { findIdentity, handlesById } from '../store/queries/identities.js';
import { entitlements, grants, systems } from '../store/schema.js';
import { HANDS_OUT_CREDENTIALS } from '../domain/provisioning.js';
import { findAppliedPolicy } from '../policy/applied.js';
import { GRANT_STATUSES } from '../domain/model.js';
import { loadActor, may, refuseUnless } from './authorize.js';
import { approvesPendingFor } from './lib/approval/pending-approver.js';
import type { Context } from '../work/context.js';
import { entitlementRef, parseInput, ref } from './input.js';
import { cursorField, decodeCursor, encodeCursor, pageOf } from './lib/cursor.js';
import { sessionCountsByGrant } from './lib/proxy-sessions/views.js';

export const Input = z.object({
  identity: ref.optional(),
  status: z.enum([...GRANT_STATUSES, 'live']).optional(),
  entitlement: entitlementRef.optional(),
  limit: z.number().int().min(1).max(5000).default(200),
  cursor: cursorField,
}).strict();

/** Grants of one identity (default: the actor's own) or, for readers of all grants, of everyone; newest first. */
export const listGrants = async (ctx: Context, input: z.input<typeof Input>) => {
  const data = parseInput(Input, input);
  const after = decodeCursor(data.cursor, 'date');
  const exec = ctx.store.db;
  const acting = await loadActor(exec, ctx.actor.id);
  const readAll = may(acting, 'grant.read_all');
  const filters: SQL[] = [];
  if (data.identity) {
    const who = await findIdentity(exec, data.identity);
    const mayRead = who.id === acting.identity.id || readAll || answersFor(who, acting.identity.id)
      || await approvesPendingFor(exec, who.id, acting.identity.id);
    refuseUnless(mayRead, `you may not see the grants of ${who.handle}`);
    filters.push(eq(grants.identityId, who.id));
  } else if (!readAll) {
    filters.push(eq(grants.identityId, acting.identity.id));
  }
  if (data.status === 'live') filters.push(inArray(grants.status, ['scheduled', 'active']));
  else if (data.status) filters.push(eq(grants.status, data.status));
  if (data.entitlement) filters.push(eq(entitlements.key, data.entitlement));
  if (after) filters.push(sql`(${grants.createdAt}, ${grants.id}) < (${after.key}::timestamptz, ${after.id}::uuid)`);
  const rows = await exec.select({ grant: grants, key: entitlements.key, tier: entitlements.tier, system: systems.key }).from(grants)
    .innerJoin(entitlements, eq(grants.entitlementId, entitlements.id)).innerJoin(systems, eq(systems.id, entitlements.systemId))
    .where(and(...filters)).orderBy(desc(grants.createdAt), desc(grants.id)).limit(data.limit);
  const handles = await handlesById(exec, rows.map((r) => r.grant.identityId));
  const sessions = await sessionCountsByGrant(exec, rows.map((r) => r.grant.id));
  // Only with grants to describe; and a database with no policy applied yet still lists (none), as before.
  const connectors = rows.length === 0 ? {} : (await findAppliedPolicy(exec))?.provisioning?.systems ?? {};
  const takesCredential = (system: string) => HANDS_OUT_CREDENTIALS.includes(connectors[system]?.connector.type ?? 'manual');
  return rows.map(({ grant, key, tier, system }) => ({
    id: grant.id, identity: handles.get(grant.identityId), entitlement: key, tier, status: grant.status, origin: grant.origin,
    startsAt: grant.startsAt, endsAt: grant.endsAt, provisioningState: grant.provisioningState, requestId: grant.requestId,
    exceptionId: grant.exceptionId, endedAt: grant.endedAt, endReason: grant.endReason, createdAt: grant.createdAt,
    takesCredential: takesCredential(system), credentialIssuedAt: grant.credentialIssuedAt, proxySessions: sessions.get(grant.id) ?? 0,
  }));
};

/** The same list as a page with the cursor of the next one. */
export const pageGrants = async (ctx: Context, input: z.input<typeof Input>) => {
  const limit = parseInput(Input, input).limit;
  return pageOf(await listGrants(ctx, input), limit, (g) => encodeCursor(g.createdAt, g.id));
};
