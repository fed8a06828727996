/**
 * Retention of proxied-session recordings (issue 18): a system's `recordings: 400d` deletes the
 * statement lines of its sessions ended longer ago than that. The session row and its SHA-256 stay,
 * so the audit chain still says what was recorded; the session reads `verified: purged` after.
 * Each batch and its `proxy_session.recording_purged` event (naming every session) commit together.
 */
import { and, asc, eq, inArray, isNotNull, isNull, lt } from 'drizzle-orm';
import { findAppliedPolicy } from '../policy/applied.js';
import { systems } from '../store/schema.js';
import { proxySessions, proxyStatements } from '../store/schema-proxy.js';
import { inTransaction, type Context } from '../work/context.js';

/** Sessions per transaction and audit event: bounded so one event stays readable and one transaction short. */
export const PURGE_BATCH = 200;

/** One batch of one system's due sessions; how many were purged (0: none left). Locked rows are another worker's. */
const purgeBatch = (ctx: Context, system: { id: string; key: string }, retentionMs: number) => inTransaction(ctx, async (work) => {
  const endedBefore = new Date(work.now.getTime() - retentionMs);
  const due = await work.tx.select({ id: proxySessions.id }).from(proxySessions)
    .where(and(eq(proxySessions.systemId, system.id), isNotNull(proxySessions.endedAt), lt(proxySessions.endedAt, endedBefore),
      isNull(proxySessions.recordingPurgedAt)))
    .orderBy(asc(proxySessions.endedAt), asc(proxySessions.id)).limit(PURGE_BATCH).for('update', { skipLocked: true });
  if (due.length === 0) return 0;
  const ids = due.map((s) => s.id);
  await work.tx.delete(proxyStatements).where(inArray(proxyStatements.sessionId, ids));
  await work.tx.update(proxySessions).set({ recordingPurgedAt: work.now }).where(inArray(proxySessions.id, ids));
  work.record({ action: 'proxy_session.recording_purged', subject: { type: 'system', id: system.id }, systemId: system.id,
    reason: `recordings are kept ${retentionMs / 86_400_000}d after a session ends`,
    data: { system: system.key, retentionMs, endedBefore: endedBefore.toISOString(), sessions: ids } });
  return ids.length;
});

/** Every system with a retention, batch after batch until nothing is due; the sessions purged. */
export const purgeExpiredRecordings = async (ctx: Context): Promise<number> => {
  const retention = (await findAppliedPolicy(ctx.store.db))?.recordingRetentionMs ?? {};
  const keys = Object.keys(retention);
  if (keys.length === 0) return 0;
  const rows = await ctx.store.db.select({ id: systems.id, key: systems.key }).from(systems).where(inArray(systems.key, keys));
  let purged = 0;
  for (const system of rows) {
    for (let n = PURGE_BATCH; n === PURGE_BATCH;) {
      n = await purgeBatch(ctx, system, retention[system.key]!);
      purged += n;
    }
  }
  return purged;
};
