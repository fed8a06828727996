import { and, desc, eq, or, sql, type SQL } from 'drizzle-orm';
import { z } from 'zod';
import { FINDING_FRAMEWORKS, FINDING_KINDS, FINDING_STATUSES } from '../domain/findings.js';
import { handlesById } from '../store/queries/identities.js';
import { systems } from '../store/schema.js';
import { findings } from '../store/schema-provisioning.js';
import { loadActor, may } from './authorize.js';
import type { Context } from '../work/context.js';
import { parseInput, ref } from './input.js';
import { cursorField, decodeCursor, encodeCursor, pageOf } from './lib/cursor.js';

export const Input = z.object({
  status: z.enum(FINDING_STATUSES).optional(),
  kind: z.enum(Object.keys(FINDING_KINDS) as [keyof typeof FINDING_KINDS, ...(keyof typeof FINDING_KINDS)[]]).optional(),
  system: ref.optional(),
  limit: z.number().int().min(1).max(5000).default(200),
  cursor: cursorField,
}).strict();

/** Findings, newest first: all for those who read provisioning, else those the actor owns or that concern systems they own. */
export const listFindings = async (ctx: Context, input: z.input<typeof Input>) => {
  const data = parseInput(Input, input);
  const after = decodeCursor(data.cursor, 'date');
  const exec = ctx.store.db;
  const acting = await loadActor(exec, ctx.actor.id);
  const me = acting.identity.id;
  const filters: (SQL | undefined)[] = [];
  if (!may(acting, 'provisioning.read')) {
    filters.push(or(eq(findings.ownerId, me), eq(systems.technicalOwnerId, me), eq(systems.businessOwnerId, me)));
  }
  if (data.status) filters.push(eq(findings.status, data.status));
  if (data.kind) filters.push(eq(findings.kind, data.kind));
  if (data.system) filters.push(eq(systems.key, data.system));
  if (after) filters.push(sql`(${findings.openedAt}, ${findings.id}) < (${after.key}::timestamptz, ${after.id}::uuid)`);
  const rows = await exec.select({ finding: findings, systemKey: systems.key }).from(findings)
    .leftJoin(systems, eq(systems.id, findings.systemId))
    .where(and(...filters)).orderBy(desc(findings.openedAt), desc(findings.id)).limit(data.limit);
  const handles = await handlesById(exec, rows.flatMap((r) => [r.finding.identityId, r.finding.ownerId].filter((id): id is string => !!id)));
  return rows.map(({ finding: f, systemKey }) => ({
    id: f.id, kind: f.kind, severity: f.severity, status: f.status, acceptedUntil: f.acceptedUntil, system: systemKey, summary: f.summary, evidence: f.evidence,
    identity: f.identityId ? handles.get(f.identityId) ?? f.identityId : null, grantId: f.grantId, jobId: f.jobId,
    owner: f.ownerId ? handles.get(f.ownerId) ?? f.ownerId : null, dueAt: f.dueAt, openedAt: f.openedAt, lastSeenAt: f.lastSeenAt,
    resolvedAt: f.resolvedAt, resolution: f.resolution, frameworks: FINDING_FRAMEWORKS[f.kind],
  }));
};

export const pageFindings = async (ctx: Context, input: z.input<typeof Input>) => {
  const limit = parseInput(Input, input).limit;
  return pageOf(await listFindings(ctx, input), limit, (f) => encodeCursor(f.openedAt, f.id));
};
