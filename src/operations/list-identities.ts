import { asc } from 'drizzle-orm';
import { findIdentity, handlesById } from '../store/queries/identities.js';
import { identities } from '../store/schema.js';
import { TenureError } from '../domain/errors.js';
import { allows } from '../domain/permissions.js';
import { loadActor } from './authorize.js';
import type { Context } from './context.js';

const describe = async (exec: Context['store']['db'], rows: (typeof identities.$inferSelect)[]) => {
  const handles = await handlesById(exec, rows.flatMap((r) => [r.sponsorId ?? '', r.managerId ?? '', r.ownerId ?? '']));
  return rows.map((r) => ({
    id: r.id, handle: r.handle, displayName: r.displayName, kind: r.kind, status: r.status,
    sponsor: r.sponsorId ? handles.get(r.sponsorId) : null, manager: r.managerId ? handles.get(r.managerId) : null,
    owner: r.ownerId ? handles.get(r.ownerId) : null, email: r.email,
  }));
};

/** Everyone, for IAM, security and auditors. */
export const listIdentities = async (ctx: Context) => {
  const acting = await loadActor(ctx.store.db, ctx.actor.id);
  if (!allows(acting.roles, 'identity.read_all')) throw new TenureError('actor.forbidden', 'you may not list all identities');
  return describe(ctx.store.db, await ctx.store.db.select().from(identities).orderBy(asc(identities.handle)));
};

/** One identity's directory entry (handle, kind, status, who answers for it): visible to any active identity, like a staff directory. */
export const showIdentity = async (ctx: Context, ref: string) => {
  const exec = ctx.store.db;
  await loadActor(exec, ctx.actor.id);
  const [view] = await describe(exec, [await findIdentity(exec, ref)]);
  return view!;
};
