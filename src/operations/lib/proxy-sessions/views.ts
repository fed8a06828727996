import { and, count, desc, eq, gte, inArray, isNull, lt, or, type SQL } from 'drizzle-orm';
import type { Executor } from '../../../store/database.js';
import { handlesById } from '../../../store/queries/identities.js';
import { entitlements, systems } from '../../../store/schema.js';
import { proxySessions } from '../../../store/schema-proxy.js';
import { verifySessions } from './verify.js';

/** Sessions matching `where`, newest first, each with names and its recording's verdict. */
export const sessionViews = async (exec: Executor, where: SQL | undefined, limit?: number) => {
  const query = exec.select({ s: proxySessions, system: systems.key, entitlement: entitlements.key, sharedAccount: entitlements.sharedAccount }).from(proxySessions)
    .innerJoin(systems, eq(systems.id, proxySessions.systemId)).innerJoin(entitlements, eq(entitlements.id, proxySessions.entitlementId))
    .where(where).orderBy(desc(proxySessions.startedAt), desc(proxySessions.id));
  const rows = limit === undefined ? await query : await query.limit(limit);
  const handles = await handlesById(exec, rows.map((r) => r.s.identityId));
  const verdicts = await verifySessions(exec, rows.map((r) => r.s));
  return rows.map(({ s, system, entitlement, sharedAccount }) => ({
    id: s.id, protocol: s.protocol, person: handles.get(s.identityId) ?? s.identityId, grant: s.grantId, system, entitlement, sharedAccount,
    account: s.account, role: s.role, clientAddress: s.clientAddress, startedAt: s.startedAt, endedAt: s.endedAt, endReason: s.endReason,
    statements: s.statementCount, recordingSha256: s.recordingSha256, recordingPurgedAt: s.recordingPurgedAt, ...verdicts.get(s.id)!,
  }));
};

/** How many proxied sessions each grant has had: what a grant's listing shows. */
export const sessionCountsByGrant = async (exec: Executor, grantIds: string[]): Promise<Map<string, number>> => {
  const rows = grantIds.length === 0 ? [] : await exec.select({ grant: proxySessions.grantId, n: count() }).from(proxySessions)
    .where(inArray(proxySessions.grantId, grantIds)).groupBy(proxySessions.grantId);
  return new Map(rows.map((r) => [r.grant, Number(r.n)]));
};

/**
 * Sessions on a shared account first, each group in its own order: what a person did under an
 * account that is not theirs is what a reviewer must attribute, so it is not left among the others.
 */
export const sharedAccountsFirst = <T extends { sharedAccount: boolean }>(sessions: T[]): T[] =>
  [...sessions.filter((s) => s.sharedAccount), ...sessions.filter((s) => !s.sharedAccount)];

/** A person's sessions that overlap [from, to), those on a shared account first, each group oldest first: what they did in a break-glass window, on any grant. */
export const sessionsDuring = async (exec: Executor, identityId: string, from: Date, to: Date, limit: number) =>
  sharedAccountsFirst((await sessionViews(exec, and(eq(proxySessions.identityId, identityId), lt(proxySessions.startedAt, to),
    or(isNull(proxySessions.endedAt), gte(proxySessions.endedAt, from))), limit)).reverse());
