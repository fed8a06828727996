import { and, eq, isNull, sql } from 'drizzle-orm';
import type { ProxyEndReason } from '../domain/proxy-recording.js';
import { entitlements, identities, systems } from '../store/schema.js';
import { proxySessions, proxyStatements } from '../store/schema-proxy.js';
import { inTransaction, type Context } from '../work/context.js';

/**
 * Statement records of a session, written as they finish (in batches). Not audit events: the
 * recording is evidence through its digest, which `proxy_session.ended` puts into the chain.
 * `lines` are consecutive, the first numbered `firstSeq`. They go as one parameter, joined by
 * newlines as the digest joins them (a canonical line holds none), under one constant text: a drizzle
 * multi-row INSERT, three parameters a line rebuilt on every flush, was the proxy thread's largest
 * cost after its socket writes, and an array parameter's quoting the next (docs/sessions.md, Speed).
 */
export const appendProxyStatements = async (ctx: Context, sessionId: string, firstSeq: number, lines: readonly string[]) => {
  if (lines.length === 0) return;
  // One empty line would be no element at all, and a newline two: either would misnumber the rest.
  if (lines.some((line) => line === '' || line.includes('\n'))) throw new Error('a recording line is empty or holds a newline');
  await ctx.store.db.execute(sql`INSERT INTO ${proxyStatements} (session_id, seq, record)
    SELECT ${sessionId}::uuid, ${firstSeq}::bigint + n - 1, record FROM unnest(string_to_array(${lines.join('\n')}, E'\\n')) WITH ORDINALITY AS line(record, n)`);
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
