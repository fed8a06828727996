import { and, asc, eq, gt } from 'drizzle-orm';
import { z } from 'zod';
import { TenureError } from '../domain/errors.js';
import type { Executor } from '../store/database.js';
import { proxyStatements } from '../store/schema-proxy.js';
import type { Context } from '../work/context.js';
import { parseInput } from './input.js';
import { cursorField, decodeCursor, encodeCursor, pageOf } from './lib/cursor.js';
import { readableSession } from './lib/proxy-sessions/readable.js';

/** Statements per page when the caller does not say: what a person reads on one screen, and what the session page shows first. */
export const TIMELINE_PAGE = 500;

export const Input = z.object({
  session: z.uuid('must be a proxy session id'),
  limit: z.number().int().min(1).max(2000).default(TIMELINE_PAGE),
  cursor: cursorField,
}).strict();

/** A statement record as the recorder writes it (domain/proxy-recording.ts canonicalStatement). */
export const Statement = z.object({
  seq: z.number(), at: z.string(), durationUs: z.number(), protocol: z.string(), text: z.string(), params: z.unknown(),
  tags: z.array(z.string()), rows: z.number(), error: z.object({ code: z.string(), message: z.string() }).nullable(),
});

/** A stored line as a statement; one that is no longer a statement record (edited by hand) is shown as it is stored. */
const statementOf = (line: { seq: number; record: string }) => {
  let parsed: unknown;
  try { parsed = JSON.parse(line.record); } catch { parsed = undefined; }
  const statement = Statement.safeParse(parsed);
  return statement.success ? statement.data : { seq: line.seq, unreadable: line.record };
};

/** One page of a PostgreSQL session's statements after `afterSeq`, in order; SSH recordings have none (they are an asciicast). */
export const timelinePage = async (exec: Executor, session: string, afterSeq: number, limit: number) => {
  const rows = await exec.select({ seq: proxyStatements.seq, record: proxyStatements.record }).from(proxyStatements)
    .where(and(eq(proxyStatements.sessionId, session), gt(proxyStatements.seq, afterSeq))).orderBy(asc(proxyStatements.seq)).limit(limit);
  return pageOf(rows.map(statementOf), limit, (s) => encodeCursor(String(s.seq), session));
};

/**
 * A session's statement timeline a page at a time (GET /v1/proxy-sessions/{id}/timeline): a long
 * session's millions of statements are read without any one answer holding them all. Not verified
 * here (the session's read does that, once): a page is what is stored, as stored.
 */
export const listProxySessionTimeline = async (ctx: Context, input: z.input<typeof Input>) => {
  const data = parseInput(Input, input);
  const after = decodeCursor(data.cursor, 'integer');
  if (after && after.id !== data.session) throw new TenureError('input.invalid', 'cursor: must be a cursor returned by the previous page', { field: 'cursor' });
  const { protocol } = await readableSession(ctx.store.db, ctx.actor.id, data.session);
  if (protocol === 'ssh') return { items: [], nextCursor: null };
  return timelinePage(ctx.store.db, data.session, after ? Number(after.key) : 0, data.limit);
};
