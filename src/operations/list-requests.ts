import { and, asc, desc, eq, inArray, or, sql, type SQL } from 'drizzle-orm';
import { z } from 'zod';
import { TenureError } from '../domain/errors.js';
import type { Executor } from '../store/database.js';
import { findSodConflict } from '../domain/separation-of-duties.js';
import { REQUEST_STATUSES } from '../domain/model.js';
import { loadAppliedPolicy } from '../policy/applied.js';
import { liveEntitlementKeysOf } from '../store/queries/catalogue.js';
import { handlesById } from '../store/queries/identities.js';
import { accessRequests, entitlements, requestStages } from '../store/schema.js';
import { loadActor, requirePermission, requireVisible } from './authorize.js';
import type { Context } from './context.js';
import { parseInput, ref } from './input.js';
import { cursorField, decodeCursor, encodeCursor, pageOf } from './lib/cursor.js';
import { findIdentity } from '../store/queries/identities.js';

export const Input = z.object({
  view: z.enum(['inbox', 'mine', 'all']).default('mine'),
  status: z.enum(REQUEST_STATUSES).optional(),
  beneficiary: ref.optional(),
  limit: z.number().int().min(1).max(1000).default(100),
  /** Pages `mine` and `all` (newest first); the inbox is oldest first and capped by `limit`. */
  cursor: cursorField,
}).strict();

type RequestRow = typeof accessRequests.$inferSelect;

/**
 * What an approver should know before deciding a pending request: a separation-of-duties conflict with
 * what the beneficiary now holds (possible when it was granted after the request was made; the grant
 * would then be refused at the last stage), or with another of their pending requests (only one of the two can be granted).
 */
const warningsFor = async (exec: Executor, rows: RequestRow[], keyOf: (r: RequestRow) => string | undefined) => {
  const pending = rows.filter((r) => r.status === 'pending');
  const warnings = new Map<string, { code: 'sod_conflict_held' | 'sod_conflict_pending'; message: string }[]>();
  if (pending.length === 0) return warnings;
  const rules = (await loadAppliedPolicy(exec)).separationOfDuties;
  if (rules.length === 0) return warnings;
  const beneficiaries = [...new Set(pending.map((r) => r.beneficiaryId))];
  const held = await liveEntitlementKeysOf(exec, beneficiaries);
  const asked = await exec.select({ id: accessRequests.id, beneficiaryId: accessRequests.beneficiaryId, key: entitlements.key }).from(accessRequests)
    .innerJoin(entitlements, eq(accessRequests.entitlementId, entitlements.id))
    .where(and(eq(accessRequests.status, 'pending'), inArray(accessRequests.beneficiaryId, beneficiaries)));
  for (const r of pending) {
    const key = keyOf(r);
    if (!key) continue;
    const found = [];
    const holding = findSodConflict(rules, key, held.get(r.beneficiaryId) ?? []);
    if (holding) found.push({ code: 'sod_conflict_held' as const, message: `holds ${holding.conflictsWith}, which ${holding.rule.name} forbids together with ${key}: the grant will be refused` });
    const others = asked.filter((a) => a.beneficiaryId === r.beneficiaryId && a.id !== r.id).map((a) => a.key);
    const asking = findSodConflict(rules, key, others);
    if (asking) found.push({ code: 'sod_conflict_pending' as const, message: `has also asked for ${asking.conflictsWith}, which ${asking.rule.name} forbids together with ${key}: only one can be granted` });
    if (found.length > 0) warnings.set(r.id, found);
  }
  return warnings;
};

const describeRequests = async (exec: Executor, rows: RequestRow[]) => {
  if (rows.length === 0) return [];
  const ids = rows.map((r) => r.id);
  const stages = await exec.select().from(requestStages).where(inArray(requestStages.requestId, ids)).orderBy(asc(requestStages.position));
  const ents = await exec.select({ id: entitlements.id, key: entitlements.key, tier: entitlements.tier }).from(entitlements)
    .where(inArray(entitlements.id, [...new Set(rows.map((r) => r.entitlementId))]));
  const handles = await handlesById(exec, [...rows.flatMap((r) => [r.requesterId, r.beneficiaryId]), ...stages.flatMap((s) => [...s.approverIds, s.decidedBy ?? ''])]);
  const entById = new Map(ents.map((e) => [e.id, e]));
  const warnings = await warningsFor(exec, rows, (r) => entById.get(r.entitlementId)?.key);
  return rows.map((r) => ({
    id: r.id, kind: r.kind, status: r.status, requester: handles.get(r.requesterId), beneficiary: handles.get(r.beneficiaryId),
    entitlement: entById.get(r.entitlementId)?.key, tier: entById.get(r.entitlementId)?.tier, justification: r.justification,
    ticket: r.ticket, startsAt: r.startsAt, endsAt: r.endsAt, outOfScope: r.outOfScope, expiresAt: r.expiresAt,
    grantId: r.grantId, createdAt: r.createdAt, warnings: warnings.get(r.id) ?? [],
    stages: stages.filter((s) => s.requestId === r.id).map((s) => ({
      position: s.position, kind: s.kind, status: s.status, approvers: s.approverIds.map((id) => handles.get(id) ?? id),
      decidedBy: s.decidedBy ? handles.get(s.decidedBy) : null, decidedAt: s.decidedAt, comment: s.comment,
    })),
  }));
};

/**
 * What waits on the caller, oldest first, in one query: pending requests whose current stage (the
 * first still pending) names the caller, and of which the caller decided no stage (no one decides
 * two stages of one request). The stage is found through the partial GIN index on pending stages'
 * approvers, so the cost follows the caller's share of the backlog, not the whole backlog.
 */
export const inboxRows = (exec: Executor, me: string, limit: number): Promise<RequestRow[]> => exec.select().from(accessRequests).where(and(
  eq(accessRequests.status, 'pending'),
  sql`EXISTS (SELECT 1 FROM request_stages s WHERE s.request_id = ${accessRequests.id} AND s.status = 'pending'
        AND s.approver_ids @> ${JSON.stringify([me])}::jsonb
        AND NOT EXISTS (SELECT 1 FROM request_stages e WHERE e.request_id = s.request_id AND e.status = 'pending' AND e.position < s.position))`,
  sql`NOT EXISTS (SELECT 1 FROM request_stages d WHERE d.request_id = ${accessRequests.id} AND d.decided_by = ${me})`,
)).orderBy(asc(accessRequests.createdAt), asc(accessRequests.id)).limit(limit);

export type RequestView = Awaited<ReturnType<typeof describeRequests>>[number];

/** Requests as a person sees them: what waits for me (oldest first), what I asked, or everything (IAM, audit). */
export const listRequests = async (ctx: Context, input: z.input<typeof Input>): Promise<RequestView[]> => {
  const data = parseInput(Input, input);
  const exec = ctx.store.db;
  const acting = await loadActor(exec, ctx.actor.id);
  const me = acting.identity.id;
  const filters: SQL[] = data.status ? [eq(accessRequests.status, data.status)] : [];
  const after = decodeCursor(data.cursor, 'date');
  if (after) filters.push(sql`(${accessRequests.createdAt}, ${accessRequests.id}) < (${after.key}::timestamptz, ${after.id}::uuid)`);
  if (data.beneficiary) filters.push(eq(accessRequests.beneficiaryId, (await findIdentity(exec, data.beneficiary, 'beneficiary')).id));
  if (data.view === 'all') requirePermission(acting, 'request.read_all');
  if (data.view === 'mine') filters.push(or(eq(accessRequests.requesterId, me), eq(accessRequests.beneficiaryId, me))!);
  if (data.view === 'inbox') return describeRequests(exec, await inboxRows(exec, me, data.limit));
  const rows = await exec.select().from(accessRequests).where(and(...filters)).orderBy(desc(accessRequests.createdAt), desc(accessRequests.id)).limit(data.limit);
  return describeRequests(exec, rows);
};

export const pageRequests = async (ctx: Context, input: z.input<typeof Input>) => {
  const { limit, view } = parseInput(Input, input);
  const page = pageOf(await listRequests(ctx, input), limit, (r) => encodeCursor(r.createdAt, r.id));
  return view === 'inbox' ? { ...page, nextCursor: null } : page;
};

/** One request with its stages; visible to its requester, beneficiary, approvers, and readers of all requests. */
export const showRequest = async (ctx: Context, requestId: string): Promise<RequestView> => {
  const exec = ctx.store.db;
  const acting = await loadActor(exec, ctx.actor.id);
  const rows = await exec.select().from(accessRequests).where(eq(accessRequests.id, parseInput(z.uuid('must be a request id'), requestId)));
  const [view] = await describeRequests(exec, rows);
  const missing = () => new TenureError('request.not_found', `no request '${requestId}'`, { field: 'request' });
  if (!view) throw missing();
  const handle = acting.identity.handle;
  const involved = view.requester === handle || view.beneficiary === handle || view.stages.some((s) => s.approvers.includes(handle));
  requireVisible(acting, involved, 'request.read_all', missing);
  return view;
};
