import { and, eq, isNotNull, isNull, sql, type SQL } from 'drizzle-orm';
import { z } from 'zod';
import { findIdentity } from '../store/queries/identities.js';
import { systems } from '../store/schema.js';
import { proxySessions } from '../store/schema-proxy.js';
import { loadActor } from './authorize.js';
import type { Context } from '../work/context.js';
import { parseInput, ref } from './input.js';
import { cursorField, decodeCursor, encodeCursor, pageOf } from './lib/cursor.js';
import { visibleSessions } from './lib/proxy-sessions/scope.js';
import { sessionViews } from './lib/proxy-sessions/views.js';

export const Input = z.object({
  grant: z.uuid('must be a grant id').optional(),
  identity: ref.optional(),
  system: ref.optional(),
  state: z.enum(['open', 'ended']).optional(),
  limit: z.number().int().min(1).max(500).default(100),
  cursor: cursorField,
}).strict();

/** Proxied sessions the actor may read (see lib/proxy-sessions/scope.ts), narrowed by the filters; newest first. */
export const listProxySessions = async (ctx: Context, input: z.input<typeof Input>) => {
  const data = parseInput(Input, input);
  const after = decodeCursor(data.cursor, 'date');
  const exec = ctx.store.db;
  const acting = await loadActor(exec, ctx.actor.id);
  const filters: (SQL | undefined)[] = [visibleSessions(exec, acting)];
  if (data.grant) filters.push(eq(proxySessions.grantId, data.grant));
  if (data.identity) filters.push(eq(proxySessions.identityId, (await findIdentity(exec, data.identity)).id));
  if (data.system) filters.push(eq(systems.key, data.system));
  if (data.state) filters.push(data.state === 'open' ? isNull(proxySessions.endedAt) : isNotNull(proxySessions.endedAt));
  if (after) filters.push(sql`(${proxySessions.startedAt}, ${proxySessions.id}) < (${after.key}::timestamptz, ${after.id}::uuid)`);
  return sessionViews(exec, and(...filters), data.limit);
};

/** The same list as a page with the cursor of the next one. */
export const pageProxySessions = async (ctx: Context, input: z.input<typeof Input>) => {
  const limit = parseInput(Input, input).limit;
  return pageOf(await listProxySessions(ctx, input), limit, (s) => encodeCursor(s.startedAt, s.id));
};
