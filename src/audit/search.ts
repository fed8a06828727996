import { and, asc, desc, eq, gt, gte, inArray, lt, sql, type SQL } from 'drizzle-orm';
import { TenureError } from '../domain/errors.js';
import type { Executor } from '../store/database.js';
import { auditEvents } from '../store/schema.js';
import type { Channel } from './event-types.js';

export interface AuditFilters {
  identityId?: string | undefined;
  systemId?: string | undefined;
  /** The id of the event's subject (a vendor's own events name no identity). */
  subjectId?: string | undefined;
  /** One action or any of several. */
  action?: string | readonly string[] | undefined;
  actorId?: string | undefined;
  /** Inclusive lower bound on the time of the event. */
  from?: Date | undefined;
  /** Exclusive upper bound on the time of the event. */
  to?: Date | undefined;
  /** Keyset pagination: only events after this seq. */
  afterSeq?: number | undefined;
  /** Keyset pagination newest first: only events before this seq. */
  beforeSeq?: number | undefined;
}

/** An event as its canonical JSON records it, with its place in the chain. */
export interface AuditRecord {
  seq: number;
  hash: string;
  v: number;
  at: string;
  action: string;
  /** `issuedBy`: who minted the token the actor used, when that was someone else (see Actor). */
  actor: { id: string | null; channel: Channel; osUser?: string; tokenId?: string; issuedBy?: string };
  subject: { type: string; id: string };
  identityId: string | null;
  systemId: string | null;
  before: unknown;
  after: unknown;
  reason: string | null;
  ticket: string | null;
  data: unknown;
}

/** The indexed columns filter; they are copies of canonical fields, kept only to make this fast. */
export const auditWhere = (f: AuditFilters): SQL | undefined => {
  const actions = f.action === undefined ? [] : typeof f.action === 'string' ? [f.action] : [...f.action];
  const filters = [
    f.identityId === undefined ? undefined : eq(auditEvents.identityId, f.identityId),
    f.systemId === undefined ? undefined : eq(auditEvents.systemId, f.systemId),
    f.subjectId === undefined ? undefined : eq(auditEvents.subjectId, f.subjectId),
    actions.length === 0 ? undefined : actions.length === 1 ? eq(auditEvents.action, actions[0]!) : inArray(auditEvents.action, actions),
    f.actorId === undefined ? undefined : eq(auditEvents.actorId, f.actorId),
    f.from === undefined ? undefined : gte(auditEvents.occurredAt, f.from),
    f.to === undefined ? undefined : lt(auditEvents.occurredAt, f.to),
    f.afterSeq === undefined ? undefined : gt(auditEvents.seq, f.afterSeq),
    f.beforeSeq === undefined ? undefined : lt(auditEvents.seq, f.beforeSeq),
  ];
  return and(...filters.filter((x): x is SQL => x !== undefined));
};

/** The record is read from the canonical text, the bytes the hash covers, never from the copies. */
export const toRecord = (row: { seq: number; hash: string; canonical: string }): AuditRecord => {
  let event: Omit<AuditRecord, 'seq' | 'hash'>;
  try {
    event = JSON.parse(row.canonical) as Omit<AuditRecord, 'seq' | 'hash'>;
  } catch {
    throw new TenureError('audit.chain_broken', `audit event ${row.seq} is not readable JSON: run tenure audit verify`);
  }
  return { ...event, seq: Number(row.seq), hash: row.hash };
};

/**
 * The filter the indexed columns matched, checked again on the hashed record: a column rewritten to
 * pull an event into someone's search is refused here. One rewritten to push an event out cannot be
 * seen from the rows returned; `audit verify` compares every column with its event for that.
 */
const disagreement = (r: AuditRecord, f: AuditFilters): string | undefined => {
  const actions = f.action === undefined ? undefined : typeof f.action === 'string' ? [f.action] : f.action;
  const at = Date.parse(r.at);
  if (f.identityId !== undefined && r.identityId !== f.identityId) return 'identity_id';
  if (f.systemId !== undefined && r.systemId !== f.systemId) return 'system_id';
  if (f.subjectId !== undefined && r.subject.id !== f.subjectId) return 'subject_id';
  if (actions !== undefined && !actions.includes(r.action)) return 'action';
  if (f.actorId !== undefined && r.actor.id !== f.actorId) return 'actor_id';
  if ((f.from !== undefined && at < f.from.getTime()) || (f.to !== undefined && at >= f.to.getTime())) return 'occurred_at';
  return undefined;
};

export const checkedRecord = (row: { seq: number; hash: string; canonical: string }, filters: AuditFilters): AuditRecord => {
  const record = toRecord(row);
  const column = disagreement(record, filters);
  if (column) {
    throw new TenureError('audit.chain_broken', `audit event ${record.seq}: its ${column} column no longer matches the hashed event: run tenure audit verify`);
  }
  return record;
};

/** A time window holding at most this many events is read through the time index (see searchAuditEvents). */
export const SMALL_WINDOW_EVENTS = 50_000;

/** The time bounds alone, which the time index answers. */
const timeWhere = (f: AuditFilters): SQL | undefined => and(
  f.from === undefined ? undefined : gte(auditEvents.occurredAt, f.from),
  f.to === undefined ? undefined : lt(auditEvents.occurredAt, f.to),
);

/** Whether the window holds few enough events to collect them all by the time index, counted no further than that. */
const smallWindow = async (exec: Executor, f: AuditFilters): Promise<boolean> => {
  const inWindow = exec.select({ seq: auditEvents.seq }).from(auditEvents).where(timeWhere(f)).limit(SMALL_WINDOW_EVENTS + 1).as('in_window');
  const [row] = await exec.select({ n: sql<number>`count(*)::int` }).from(inWindow);
  return (row?.n ?? 0) <= SMALL_WINDOW_EVENTS;
};

/**
 * Events matching every given filter, at most `limit`: oldest first, paged on with `afterSeq`, or
 * newest first (`newestFirst`), paged on with `beforeSeq`.
 *
 * A time bound needs care: the planner walks the chain in seq order and filters on the time,
 * expecting the window's events to be spread over the chain, when they sit together at one place
 * in it (time grows with seq). The last hour of ten million events, oldest first, walked all ten
 * million (seconds). A window of few events is collected whole through the time index first, then
 * ordered and paged; a wide one matches often enough for the walk to find its page soon.
 */
export const searchAuditEvents = async (exec: Executor, filters: AuditFilters & { limit: number; newestFirst?: boolean }): Promise<AuditRecord[]> => {
  const bounded = filters.from !== undefined || filters.to !== undefined;
  const window = bounded && await smallWindow(exec, filters)
    ? sql`${auditEvents.seq} IN (SELECT seq FROM (${exec.select({ seq: auditEvents.seq }).from(auditEvents).where(timeWhere(filters))}) AS w OFFSET 0)`
    : undefined;
  const rows = await exec.select({ seq: auditEvents.seq, hash: auditEvents.hash, canonical: auditEvents.canonical })
    .from(auditEvents).where(and(window, auditWhere(filters)))
    .orderBy(filters.newestFirst ? desc(auditEvents.seq) : asc(auditEvents.seq)).limit(filters.limit);
  return rows.map((row) => checkedRecord(row, filters));
};
