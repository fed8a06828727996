import { and, desc, eq, inArray, or, sql, type SQL } from 'drizzle-orm';
import { z } from 'zod';
import { JOB_STATES, OPEN_JOB_STATES } from '../domain/provisioning.js';
import { handlesById } from '../store/queries/identities.js';
import { entitlements, grants, systems } from '../store/schema.js';
import { provisioningJobs } from '../store/schema-provisioning.js';
import { loadActor, may } from './authorize.js';
import type { Context } from '../work/context.js';
import { parseInput, ref } from './input.js';
import { cursorField, decodeCursor, encodeCursor, pageOf } from './lib/cursor.js';

export const Input = z.object({
  state: z.enum([...JOB_STATES, 'open']).optional(),
  system: ref.optional(),
  grant: z.uuid('must be a grant id').optional(),
  limit: z.number().int().min(1).max(5000).default(200),
  cursor: cursorField,
}).strict();

/**
 * Provisioning jobs, newest first: all of them for those who read provisioning, else the jobs of
 * the systems the actor owns (their manual tasks among them). `open` means not finished.
 */
export const listProvisioningJobs = async (ctx: Context, input: z.input<typeof Input>) => {
  const data = parseInput(Input, input);
  const after = decodeCursor(data.cursor, 'integer');
  const exec = ctx.store.db;
  const acting = await loadActor(exec, ctx.actor.id);
  const me = acting.identity.id;
  const filters: (SQL | undefined)[] = [];
  if (!may(acting, 'provisioning.read')) filters.push(or(eq(systems.technicalOwnerId, me), eq(systems.businessOwnerId, me)));
  if (data.state === 'open') filters.push(inArray(provisioningJobs.state, OPEN_JOB_STATES));
  else if (data.state) filters.push(eq(provisioningJobs.state, data.state));
  if (data.system) filters.push(eq(systems.key, data.system));
  if (data.grant) filters.push(eq(provisioningJobs.grantId, data.grant));
  if (after) filters.push(sql`${provisioningJobs.seq} < ${after.key}::bigint`);
  const rows = await exec.select({ job: provisioningJobs, systemKey: systems.key, entitlement: entitlements.key }).from(provisioningJobs)
    .innerJoin(systems, eq(systems.id, provisioningJobs.systemId))
    .innerJoin(grants, eq(grants.id, provisioningJobs.grantId))
    .innerJoin(entitlements, eq(entitlements.id, grants.entitlementId))
    .where(and(...filters)).orderBy(desc(provisioningJobs.seq)).limit(data.limit);
  const handles = await handlesById(exec, rows.map((r) => r.job.identityId));
  return rows.map(({ job, systemKey, entitlement }) => ({
    id: job.id, seq: job.seq, grantId: job.grantId, identity: handles.get(job.identityId) ?? job.identityId, system: systemKey, entitlement,
    action: job.action, state: job.state, attempts: job.attempts, nextAttemptAt: job.nextAttemptAt, lastError: job.lastError,
    dueAt: job.dueAt, outcome: job.outcome, createdAt: job.createdAt, finishedAt: job.finishedAt,
  }));
};

export const pageProvisioningJobs = async (ctx: Context, input: z.input<typeof Input>) => {
  const limit = parseInput(Input, input).limit;
  return pageOf(await listProvisioningJobs(ctx, input), limit, (j) => encodeCursor(String(j.seq), j.id));
};
