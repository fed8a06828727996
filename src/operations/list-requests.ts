import { and, asc, desc, eq, inArray, or, sql, type SQL } from 'drizzle-orm';
import { z } from 'zod';
import { TenureError } from '../domain/errors.js';
import type { Executor } from '../store/database.js';
import { findSodConflict } from '../domain/separation-of-duties.js';
import { REQUEST_STATUSES } from '../domain/model.js';
import { loadAppliedPolicy } from '../policy/applied.js';
import { liveEntitlementKeysOf } from '../store/queries/catalogue.js';
import { handlesById } from '../store/queries/identities.js';
import { accessRequests, entitlements, requestCurrentApprovers, requestStages } from '../store/schema.js';
import { loadActor, requirePermission, requireVisible } from './authorize.js';
import type { Context } from '../work/context.js';
import { parseInput, ref } from './input.js';
import { cursorField, decodeCursor, encodeCursor, pageOf } from './lib/cursor.js';
import { queuePlaces } from './lib/approval/check-out-queue.js';
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

type Warning = { code: 'sod_conflict_held' | 'sod_conflict_pending'; message: string };
type SodRules = Awaited<ReturnType<typeof loadAppliedPolicy>>['separationOfDuties'];

const groupBy = <T>(items: readonly T[], keyOf: (item: T) => string): Map<string, T[]> => {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const group = groups.get(keyOf(item));
    if (group) group.push(item);
    else groups.set(keyOf(item), [item]);
  }
  return groups;
};

/**
 * What the beneficiaries of pending rows hold and have asked for, as far as SoD rules can use it: only
 * rows for an entitlement some rule names can conflict, and only with keys the rules name, so the
 * reads are skipped when no row can conflict and carry only the ruled keys otherwise.
 */
const sodContext = async (exec: Executor, rules: SodRules, pending: { row: RequestRow; key: string | undefined }[]) => {
  const ruled = [...new Set(rules.flatMap((r) => r.entitlements))];
  const beneficiaries = [...new Set(pending.filter((p) => p.key && ruled.includes(p.key)).map((p) => p.row.beneficiaryId))];
  if (beneficiaries.length === 0) return { held: new Map<string, string[]>(), asked: new Map<string, { id: string; key: string }[]>() };
  const [held, asked] = await Promise.all([
    liveEntitlementKeysOf(exec, beneficiaries),
    exec.select({ id: accessRequests.id, beneficiaryId: accessRequests.beneficiaryId, key: entitlements.key }).from(accessRequests)
      .innerJoin(entitlements, eq(accessRequests.entitlementId, entitlements.id))
      .where(and(eq(accessRequests.status, 'pending'), inArray(accessRequests.beneficiaryId, beneficiaries), inArray(entitlements.key, ruled))),
  ]);
  return { held, asked: groupBy(asked, (a) => a.beneficiaryId) };
};

/**
 * What an approver should know before deciding a pending request: a separation-of-duties conflict with
 * what the beneficiary now holds (possible when it was granted after the request was made; the grant
 * would then be refused at the last stage), or with another of their pending requests (only one of the two can be granted).
 */
const warningsFor = (rules: SodRules, context: Awaited<ReturnType<typeof sodContext>>, r: RequestRow, key: string | undefined): Warning[] => {
  if (r.status !== 'pending' || !key || rules.length === 0) return [];
  const found: Warning[] = [];
  const holding = findSodConflict(rules, key, context.held.get(r.beneficiaryId) ?? []);
  if (holding) found.push({ code: 'sod_conflict_held', message: `holds ${holding.conflictsWith}, which ${holding.rule.name} forbids together with ${key}: the grant will be refused` });
  const others = (context.asked.get(r.beneficiaryId) ?? []).filter((a) => a.id !== r.id).map((a) => a.key);
  const asking = findSodConflict(rules, key, others);
  if (asking) found.push({ code: 'sod_conflict_pending', message: `has also asked for ${asking.conflictsWith}, which ${asking.rule.name} forbids together with ${key}: only one can be granted` });
  return found;
};

/**
 * Describes one page in two rounds of reads issued together (the stages, entitlements and policy;
 * then the handles and what the SoD warnings need, when they can arise), each a query per page, not per row: on a server
 * pool they overlap, so a page costs about two round trips after the rows; PGlite runs them in turn.
 */
const describeRequests = async (exec: Executor, rows: RequestRow[]) => {
  if (rows.length === 0) return [];
  const [stages, ents, policy] = await Promise.all([
    exec.select().from(requestStages).where(inArray(requestStages.requestId, rows.map((r) => r.id))).orderBy(asc(requestStages.position)),
    exec.select({ id: entitlements.id, key: entitlements.key, tier: entitlements.tier }).from(entitlements)
      .where(inArray(entitlements.id, [...new Set(rows.map((r) => r.entitlementId))])),
    rows.some((r) => r.status === 'pending') ? loadAppliedPolicy(exec) : undefined,
  ]);
  const rules = policy?.separationOfDuties ?? [];
  const entById = new Map(ents.map((e) => [e.id, e]));
  const [handles, sod, places] = await Promise.all([
    handlesById(exec, [...rows.flatMap((r) => [r.requesterId, r.beneficiaryId]), ...stages.flatMap((s) => [...s.approverIds, s.decidedBy ?? ''])]),
    sodContext(exec, rules, rows.filter((r) => r.status === 'pending').map((row) => ({ row, key: entById.get(row.entitlementId)?.key }))),
    queuePlaces(exec, rows.filter((r) => r.status === 'queued').map((r) => r.id)),
  ]);
  const stagesOf = groupBy(stages, (s) => s.requestId);
  return rows.map((r) => ({
    id: r.id, kind: r.kind, status: r.status, requester: handles.get(r.requesterId), beneficiary: handles.get(r.beneficiaryId),
    entitlement: entById.get(r.entitlementId)?.key, tier: entById.get(r.entitlementId)?.tier, justification: r.justification,
    ticket: r.ticket, startsAt: r.startsAt, endsAt: r.endsAt, durationMs: r.durationMs, outOfScope: r.outOfScope, expiresAt: r.expiresAt,
    grantId: r.grantId, createdAt: r.createdAt, queuePlace: places.get(r.id) ?? null, warnings: warningsFor(rules, sod, r, entById.get(r.entitlementId)?.key),
    stages: (stagesOf.get(r.id) ?? []).map((s) => ({
      position: s.position, kind: s.kind, status: s.status, approvers: s.approverIds.map((id) => handles.get(id) ?? id),
      decidedBy: s.decidedBy ? handles.get(s.decidedBy) : null, decidedAt: s.decidedAt, comment: s.comment,
    })),
  }));
};

/**
 * What waits on the caller, oldest first, in one query: a range scan of the caller's rows in
 * request_current_approvers (kept by triggers to the first pending stage's approvers, less anyone who
 * decided a stage of the request), which is in the inbox's order, so it stops at the limit however
 * large the backlog. The status test guards the join; the triggers already drop decided requests.
 */
export const inboxRows = async (exec: Executor, me: string, limit: number): Promise<RequestRow[]> => {
  const rows = await exec.select({ request: accessRequests }).from(requestCurrentApprovers)
    .innerJoin(accessRequests, eq(accessRequests.id, requestCurrentApprovers.requestId))
    .where(and(eq(requestCurrentApprovers.identityId, me), eq(accessRequests.status, 'pending')))
    .orderBy(asc(requestCurrentApprovers.createdAt), asc(requestCurrentApprovers.requestId)).limit(limit);
  return rows.map((r) => r.request);
};

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
