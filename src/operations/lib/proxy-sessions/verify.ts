import { and, asc, eq, inArray, sql } from 'drizzle-orm';
import { RecordingDigest } from '../../../domain/proxy-recording.js';
import type { Executor } from '../../../store/database.js';
import { auditEvents } from '../../../store/schema.js';
import { proxyStatements } from '../../../store/schema-proxy.js';

/**
 * Whether a session's stored recording is the one the audit chain vouches for: its lines, in
 * order, hashed again and compared with `recordingSha256` of its `proxy_session.ended` event (not
 * with the session row, which anyone who can edit the recording can edit too). null while the
 * session is open: nothing is vouched for yet; `purged` once retention deleted the lines (the
 * digest stays, nothing is left to compare with it).
 */
export type Verified = boolean | 'purged' | null;

export interface SessionDigest { id: string; endedAt: Date | null; recordingPurgedAt: Date | null }

/** The digests the chain carries for these sessions' ends. */
const auditedDigests = async (exec: Executor, ids: string[]): Promise<Map<string, string>> => {
  const rows = ids.length === 0 ? [] : await exec.select({ id: auditEvents.subjectId, canonical: auditEvents.canonical }).from(auditEvents)
    .where(and(eq(auditEvents.action, 'proxy_session.ended'), eq(auditEvents.subjectType, 'proxy_session'), inArray(auditEvents.subjectId, ids)));
  const digests = new Map<string, string>();
  for (const row of rows) {
    const digest = (JSON.parse(row.canonical) as { data?: { recordingSha256?: unknown } }).data?.recordingSha256;
    if (typeof digest === 'string') digests.set(row.id, digest);
  }
  return digests;
};

/**
 * Rows read from proxy_statements per query. A recording may hold millions of lines and an SSH
 * line tens of KiB: reading, hashing or sending one never holds more than a page of it in memory.
 */
export const RECORDING_PAGE = 2000;

/** Stored lines of these sessions in (session, seq) order, a page at a time (keyset: each page an index range scan). */
export async function* recordingPages(exec: Executor, ids: string[]): AsyncGenerator<{ sessionId: string; seq: number; record: string }[]> {
  if (ids.length === 0) return;
  let after: { sessionId: string; seq: number } | undefined;
  for (;;) {
    const rows = await exec.select().from(proxyStatements)
      .where(and(inArray(proxyStatements.sessionId, ids),
        after ? sql`(${proxyStatements.sessionId}, ${proxyStatements.seq}) > (${after.sessionId}::uuid, ${after.seq})` : undefined))
      .orderBy(asc(proxyStatements.sessionId), asc(proxyStatements.seq)).limit(RECORDING_PAGE);
    if (rows.length > 0) yield rows;
    if (rows.length < RECORDING_PAGE) return;
    const last = rows[rows.length - 1]!;
    after = { sessionId: last.sessionId, seq: last.seq };
  }
}

/** Each session's stored lines hashed again, page by page, as the recorder hashed them. */
const storedDigests = async (exec: Executor, ids: string[]): Promise<Map<string, string>> => {
  const digests = new Map(ids.map((id) => [id, new RecordingDigest()]));
  for await (const rows of recordingPages(exec, ids)) for (const row of rows) digests.get(row.sessionId)!.add(row.record);
  return new Map([...digests].map(([id, digest]) => [id, digest.hex()]));
};

/** The verdict and the audited digest of each session. */
export const verifySessions = async (
  exec: Executor, sessions: readonly SessionDigest[],
): Promise<Map<string, { verified: Verified; auditedSha256: string | null }>> => {
  const ended = sessions.filter((s) => s.endedAt !== null);
  const [digests, stored] = await Promise.all([
    auditedDigests(exec, ended.map((s) => s.id)), storedDigests(exec, ended.filter((s) => s.recordingPurgedAt === null).map((s) => s.id))]);
  return new Map(sessions.map((s): [string, { verified: Verified; auditedSha256: string | null }] => {
    const audited = digests.get(s.id) ?? null;
    if (s.endedAt === null) return [s.id, { verified: null, auditedSha256: null }];
    if (s.recordingPurgedAt !== null) return [s.id, { verified: 'purged', auditedSha256: audited }];
    const recomputed = stored.get(s.id);
    return [s.id, { verified: audited !== null && audited === recomputed, auditedSha256: audited }];
  }));
};
