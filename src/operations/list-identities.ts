import { and, asc, eq, gt, type SQL } from 'drizzle-orm';
import { z } from 'zod';
import { findIdentity, handlesById } from '../store/queries/identities.js';
import { identities } from '../store/schema.js';
import { authorize, loadActor } from './authorize.js';
import type { Context } from '../work/context.js';
import { parseInput } from './input.js';
import { cursorField, decodeCursor, encodeCursor, pageOf } from './lib/cursor.js';
import { IDENTITY_KINDS, IDENTITY_STATUSES } from '../domain/model.js';

const describe = async (exec: Context['store']['db'], rows: (typeof identities.$inferSelect)[]) => {
  const handles = await handlesById(exec, rows.flatMap((r) => [r.sponsorId ?? '', r.managerId ?? '', r.ownerId ?? '']));
  return rows.map((r) => ({
    id: r.id, handle: r.handle, displayName: r.displayName, kind: r.kind, status: r.status,
    sponsor: r.sponsorId ? handles.get(r.sponsorId) : null, manager: r.managerId ? handles.get(r.managerId) : null,
    owner: r.ownerId ? handles.get(r.ownerId) : null, email: r.email,
  }));
};

export const ListInput = z.object({
  kind: z.enum(IDENTITY_KINDS).optional(),
  status: z.enum(IDENTITY_STATUSES).optional(),
  limit: z.number().int().min(1).max(5000).default(1000),
  cursor: cursorField,
}).strict();

/** Everyone (or one kind or status), by handle, for IAM, security and auditors. */
export const listIdentities = async (ctx: Context, input: z.input<typeof ListInput> = {}) => {
  const data = parseInput(ListInput, input);
  const after = decodeCursor(data.cursor, 'handle');
  await authorize(ctx, 'identity.read_all');
  const filters: SQL[] = [];
  if (data.kind) filters.push(eq(identities.kind, data.kind));
  if (data.status) filters.push(eq(identities.status, data.status));
  if (after) filters.push(gt(identities.handle, after.key));
  const rows = await ctx.store.db.select().from(identities).where(and(...filters)).orderBy(asc(identities.handle)).limit(data.limit);
  return describe(ctx.store.db, rows);
};

export const pageIdentities = async (ctx: Context, input: z.input<typeof ListInput> = {}) => {
  const limit = parseInput(ListInput, input).limit;
  return pageOf(await listIdentities(ctx, input), limit, (i) => encodeCursor(i.handle, i.id));
};

/** One identity's directory entry (handle, kind, status, who answers for it): visible to any active identity, like a staff directory. */
export const showIdentity = async (ctx: Context, ref: string) => {
  const exec = ctx.store.db;
  await loadActor(exec, ctx.actor.id);
  const [view] = await describe(exec, [await findIdentity(exec, ref)]);
  return view!;
};
