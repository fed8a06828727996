import { and, eq, isNull } from 'drizzle-orm';
import type { ProxyEndReason } from '../domain/proxy-recording.js';
import { entitlements, identities, systems } from '../store/schema.js';
import { proxySessions, proxyStatements } from '../store/schema-proxy.js';
import { inTransaction, type Context } from '../work/context.js';

/**
 * Statement records of a session, written as they finish (in batches). Not audit events: the
 * recording is evidence through its digest, which `proxy_session.ended` puts into the chain.
 */
export const appendProxyStatements = async (ctx: Context, sessionId: string, records: readonly { seq: number; record: string }[]) => {
  if (records.length === 0) return;
  await ctx.store.db.insert(proxyStatements).values(records.map((r) => ({ sessionId, ...r })));
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
