import { and, eq, isNull, sql } from 'drizzle-orm';
import type { ProxyEndReason } from '../domain/proxy-recording.js';
import { entitlements, identities, systems } from '../store/schema.js';
import { proxySessions, proxyStatements } from '../store/schema-proxy.js';
import { inTransaction, type Context } from '../work/context.js';

/**
 * Statement records of a session, written as they finish (in batches). Not audit events: the
 * recording is evidence through its digest, which `proxy_session.ended` puts into the chain.
 * One text whatever the batch's size, its rows as two array parameters: a drizzle multi-row INSERT
 * was rebuilt, three parameters a row, on every flush, the largest cost of the proxy's own thread
 * after its socket writes (docs/sessions.md, Speed).
 */
export const appendProxyStatements = async (ctx: Context, sessionId: string, records: readonly { seq: number; record: string }[]) => {
  if (records.length === 0) return;
  const seqs = sql.param(records.map((r) => r.seq));
  const lines = sql.param(records.map((r) => r.record));
  await ctx.store.db.execute(sql`INSERT INTO ${proxyStatements} (session_id, seq, record)
    SELECT ${sessionId}::uuid, seq, record FROM unnest(${seqs}::bigint[], ${lines}::text[]) AS line(seq, record)`);
};

export interface EndProxySession { id: string; reason: ProxyEndReason; statements: number; recordingSha256: string }

/** The session ends once: its end, why, and the recording's SHA-256 commit with `proxy_session.ended`. */
export const endProxySession = (ctx: Context, input: EndProxySession) => inTransaction(ctx, async (work) => {
  const [row] = await work.tx.update(proxySessions)
    .set({ endedAt: work.now, endReason: input.reason, statementCount: input.statements, recordingSha256: input.recordingSha256 })
    .where(and(eq(proxySessions.id, input.id), isNull(proxySessions.endedAt)))
    .returning({ identityId: proxySessions.identityId, systemId: proxySessions.systemId, grantId: proxySessions.grantId,
      entitlementId: proxySessions.entitlementId });
  if (!row) return false;
  const [names] = await work.tx.select({ person: identities.handle, system: systems.key, entitlement: entitlements.key }).from(entitlements)
    .innerJoin(systems, eq(systems.id, entitlements.systemId)).innerJoin(identities, eq(identities.id, row.identityId))
    .where(eq(entitlements.id, row.entitlementId));
  work.record({ action: 'proxy_session.ended', subject: { type: 'proxy_session', id: input.id }, identityId: row.identityId, systemId: row.systemId,
    reason: input.reason, data: { ...names, grant: row.grantId, reason: input.reason, statements: input.statements,
      recordingSha256: input.recordingSha256 } });
  return true;
});
