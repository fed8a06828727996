import { and, desc, eq, gte, inArray, sql } from 'drizzle-orm';
import { z } from 'zod';
import { summariseRevocationLag } from '../domain/revocation-lag.js';
import { readsThatMayLag } from '../store/database.js';
import { grants, systems } from '../store/schema.js';
import { provisioningJobs } from '../store/schema-provisioning.js';
import { authorize } from './authorize.js';
import type { Context } from '../work/context.js';
import { parseInput, ref } from './input.js';

export const Input = z.object({
  days: z.coerce.number().int('must be a whole number of days').min(1, 'must be at least 1').max(90, 'must be at most 90').default(30),
  system: ref.optional(),
}).strict();

/**
 * How long access stayed in target systems after Tenure ended it, over the last `days` days: every
 * grant whose removal was due in the window and went to a target (connector or manual task), with
 * the latest removal job's outcome. A removal stopped out of band (`resolved`) counts as removed when
 * a person says so; a superseded one never happened and is left out.
 */
export const measureRevocationLag = async (ctx: Context, input: z.input<typeof Input>) => {
  const data = parseInput(Input, input);
  await authorize(ctx, 'provisioning.read');
  // A report: from the replica when there is one (it may lag; docs/high-availability.md).
  const exec = readsThatMayLag(ctx.store);
  const now = ctx.clock.now();
  const since = new Date(Math.floor(now.getTime() / 86_400_000) * 86_400_000 - (data.days - 1) * 86_400_000);
  // Due when the grant's end came, or when it was revoked if that was first.
  const dueAt = sql<Date>`least(coalesce(${grants.endsAt}, ${grants.endedAt}), ${grants.endedAt})`.mapWith(grants.endedAt);
  const rows = await exec.selectDistinctOn([provisioningJobs.grantId], {
    system: systems.key, dueAt, state: provisioningJobs.state, finishedAt: provisioningJobs.finishedAt,
  }).from(provisioningJobs)
    .innerJoin(grants, eq(grants.id, provisioningJobs.grantId))
    .innerJoin(systems, eq(systems.id, provisioningJobs.systemId))
    .where(and(eq(provisioningJobs.action, 'deprovision'), inArray(provisioningJobs.state, ['queued', 'running', 'failing', 'held',
      'awaiting_confirmation', 'done', 'resolved']), gte(grants.endedAt, since), data.system ? eq(systems.key, data.system) : undefined))
    .orderBy(provisioningJobs.grantId, desc(provisioningJobs.seq));
  const removals = rows.filter((r) => r.dueAt >= since).map((r) => ({
    system: r.system, dueAt: r.dueAt, removedAt: r.state === 'done' || r.state === 'resolved' ? r.finishedAt : null,
  }));
  return { days: data.days, since, ...summariseRevocationLag(removals, now, data.days) };
};
