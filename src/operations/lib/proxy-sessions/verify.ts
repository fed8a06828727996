import { and, asc, eq, inArray } from 'drizzle-orm';
import { recordingSha256 } from '../../../domain/proxy-recording.js';
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

/** Each session's stored lines, in order. */
export const recordingLines = async (exec: Executor, ids: string[]): Promise<Map<string, { seq: number; record: string }[]>> => {
  const rows = ids.length === 0 ? [] : await exec.select().from(proxyStatements)
    .where(inArray(proxyStatements.sessionId, ids)).orderBy(asc(proxyStatements.sessionId), asc(proxyStatements.seq));
  const lines = new Map<string, { seq: number; record: string }[]>(ids.map((id) => [id, []]));
  for (const row of rows) lines.get(row.sessionId)!.push({ seq: row.seq, record: row.record });
  return lines;
};

/** The verdict and the audited digest of each session. */
export const verifySessions = async (
  exec: Executor, sessions: readonly SessionDigest[],
): Promise<Map<string, { verified: Verified; auditedSha256: string | null }>> => {
  const ended = sessions.filter((s) => s.endedAt !== null);
  const [digests, stored] = await Promise.all([
    auditedDigests(exec, ended.map((s) => s.id)), recordingLines(exec, ended.filter((s) => s.recordingPurgedAt === null).map((s) => s.id))]);
  return new Map(sessions.map((s): [string, { verified: Verified; auditedSha256: string | null }] => {
    const audited = digests.get(s.id) ?? null;
    if (s.endedAt === null) return [s.id, { verified: null, auditedSha256: null }];
    if (s.recordingPurgedAt !== null) return [s.id, { verified: 'purged', auditedSha256: audited }];
    const recomputed = recordingSha256((stored.get(s.id) ?? []).map((l) => l.record));
    return [s.id, { verified: audited !== null && audited === recomputed, auditedSha256: audited }];
  }));
};
