import { eq, sql } from 'drizzle-orm';
import { z } from 'zod';
import { rawRows, type Executor } from '../store/database.js';
import { proxySessions } from '../store/schema-proxy.js';
import type { Context } from '../work/context.js';
import { parseInput } from './input.js';
import { timelinePage, TIMELINE_PAGE } from './list-proxy-session-timeline.js';
import { readableSession } from './lib/proxy-sessions/readable.js';
import { recordingPages } from './lib/proxy-sessions/verify.js';
import { sessionViews } from './lib/proxy-sessions/views.js';

export { Statement } from './list-proxy-session-timeline.js';

export const Input = z.object({ session: z.uuid('must be a proxy session id') }).strict();

/**
 * An SSH recording up to this size comes inline, for the console's player; a larger one only as a
 * download (GET /v1/proxy-sessions/{id}/recording), so no answer holds an hours-long terminal.
 */
export const ASCIICAST_INLINE_BYTES = 4 * 1024 * 1024;

/** The stored recording's size in bytes, as the download and the digest see it (lines joined by newlines). */
const recordingBytes = async (exec: Executor, session: string): Promise<number> => {
  const [row] = await rawRows<{ bytes: string | number }>(exec, sql`
    SELECT coalesce(sum(octet_length(record)), 0) + greatest(count(*) - 1, 0) AS bytes FROM proxy_statements WHERE session_id = ${session}`);
  return Number(row?.bytes ?? 0);
};

const asciicastOf = async (exec: Executor, session: string): Promise<string> => {
  const lines: string[] = [];
  for await (const rows of recordingPages(exec, [session])) for (const row of rows) lines.push(row.record);
  return lines.join('\n');
};

/**
 * One proxied session, verified against the audit chain, with the start of its recording: the
 * first page of a PostgreSQL session's statements (the rest from its timeline), or an SSH
 * session's asciicast when it is small enough to come inline (else from its download).
 */
export const showProxySession = async (ctx: Context, input: z.input<typeof Input>) => {
  const { session } = parseInput(Input, input);
  const exec = ctx.store.db;
  const { protocol } = await readableSession(exec, ctx.actor.id, session);
  // readableSession refused anyone who may not read it: the view needs no second visibility filter.
  const [view] = await sessionViews(exec, eq(proxySessions.id, session));
  const bytes = view!.recordingPurgedAt ? null : await recordingBytes(exec, session);
  if (protocol === 'ssh') {
    // An SSH recording is an asciicast file, line for line: the text players read, and whose SHA-256 the chain carries.
    const inline = bytes !== null && bytes > 0 && bytes <= ASCIICAST_INLINE_BYTES;
    return { ...view!, recordingBytes: bytes, timeline: [], timelineNextCursor: null, asciicast: inline ? await asciicastOf(exec, session) : null };
  }
  const first = await timelinePage(exec, session, 0, TIMELINE_PAGE);
  return { ...view!, recordingBytes: bytes, timeline: first.items, timelineNextCursor: first.nextCursor, asciicast: null };
};
