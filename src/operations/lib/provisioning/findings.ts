/**
 * Opening and closing findings inside a unit of work. A finding is identified by its key (the
 * condition it describes), so the same condition seen again refreshes the open finding rather than
 * opening a second one, and each opening and closing is an audit event.
 */
import { and, eq, inArray, lt, sql, type SQL } from 'drizzle-orm';
import { FINDING_KINDS, type FindingKind, type FindingStatus, type Severity } from '../../../domain/findings.js';
import { newId } from '../../../domain/ids.js';
import { rawRows } from '../../../store/database.js';
import { findings } from '../../../store/schema-provisioning.js';
import type { Work } from '../../../work/context.js';

export interface FindingInput {
  kind: FindingKind;
  key: string;
  summary: string;
  evidence: Record<string, unknown>;
  severity?: Severity;
  systemId?: string | null;
  identityId?: string | null;
  grantId?: string | null;
  jobId?: string | null;
  ownerId?: string | null;
  dueAt?: Date | null;
}

/** A finding still to deal with: open, or accepted as an exception for a while. */
const LIVE: FindingStatus[] = ['open', 'accepted'];

const recordReopened = (work: Work, id: string, f: { identityId?: string | null; systemId?: string | null; kind: string }) =>
  work.record({ action: 'finding.reopened', subject: { type: 'finding', id }, identityId: f.identityId, systemId: f.systemId,
    before: { status: 'accepted' }, after: { status: 'open', kind: f.kind }, reason: 'the accepted exception expired' });

/** Opens the finding, or refreshes the open one with the same key. Returns its id and whether it is new. */
export const openFinding = async (work: Work, input: FindingInput): Promise<{ id: string; opened: boolean }> => {
  const [open] = await work.tx.select({ id: findings.id, status: findings.status, acceptedUntil: findings.acceptedUntil }).from(findings)
    .where(and(eq(findings.key, input.key), inArray(findings.status, LIVE))).for('update');
  if (open) {
    // An exception whose time is up makes the finding open again the next time the condition is seen.
    const lapsed = open.status === 'accepted' && open.acceptedUntil !== null && open.acceptedUntil.getTime() <= work.now.getTime();
    await work.tx.update(findings).set({ lastSeenAt: work.now, evidence: input.evidence, summary: input.summary,
      ...(lapsed ? { status: 'open' as const, acceptedUntil: null } : {}) }).where(eq(findings.id, open.id));
    if (lapsed) recordReopened(work, open.id, input);
    return { id: open.id, opened: lapsed };
  }
  const id = newId();
  const severity = input.severity ?? FINDING_KINDS[input.kind];
  await work.tx.insert(findings).values({
    id, kind: input.kind, severity, key: input.key, status: 'open', systemId: input.systemId ?? null,
    identityId: input.identityId ?? null, grantId: input.grantId ?? null, jobId: input.jobId ?? null,
    summary: input.summary, evidence: input.evidence, ownerId: input.ownerId ?? null, dueAt: input.dueAt ?? null,
    openedAt: work.now, lastSeenAt: work.now,
  });
  work.record({ action: 'finding.opened', subject: { type: 'finding', id }, identityId: input.identityId, systemId: input.systemId,
    after: { kind: input.kind, severity, summary: input.summary }, data: input.evidence });
  return { id, opened: true };
};

/** Resolves the open findings matching `where`, saying why; returns how many. */
export const resolveFindingsWhere = async (work: Work, where: SQL, resolution: string): Promise<number> => {
  const open = await work.tx.select().from(findings).where(and(where, inArray(findings.status, LIVE))).for('update');
  if (open.length === 0) return 0;
  await work.tx.update(findings).set({ status: 'resolved', resolvedAt: work.now, resolvedBy: work.actor.id ?? null, resolution })
    .where(inArray(findings.id, open.map((f) => f.id)));
  for (const finding of open) {
    work.record({ action: 'finding.resolved', subject: { type: 'finding', id: finding.id }, identityId: finding.identityId,
      systemId: finding.systemId, before: { status: finding.status }, after: { status: 'resolved', kind: finding.kind }, reason: resolution });
  }
  return open.length;
};

export const resolveFindingByKey = (work: Work, key: string, resolution: string): Promise<number> =>
  resolveFindingsWhere(work, eq(findings.key, key), resolution);

/**
 * Closes open findings of `kinds` on a system that this pass did not see again (every finding seen
 * was refreshed to `work.now` by openFinding): the condition is gone.
 */
export const resolveUnseen = (work: Work, systemId: string, kinds: readonly FindingKind[], resolution: string) =>
  resolveFindingsWhere(work, and(eq(findings.systemId, systemId), inArray(findings.kind, [...kinds]), lt(findings.lastSeenAt, work.now))!,
    resolution);

/** Exceptions whose time is up: the findings are open again, each with an audit event. */
export const reopenLapsedAcceptances = async (work: Work): Promise<number> => {
  const lapsed = await work.tx.select().from(findings)
    .where(and(eq(findings.status, 'accepted'), lt(findings.acceptedUntil, work.now))).for('update', { skipLocked: true });
  for (const f of lapsed) {
    await work.tx.update(findings).set({ status: 'open', acceptedUntil: null }).where(eq(findings.id, f.id));
    recordReopened(work, f.id, f);
  }
  return lapsed.length;
};

/**
 * Who must act on a system's findings: its technical owner, else its business owner, else nobody
 * named (security and IAM see every finding). Read when the findings open, so a departed owner is skipped.
 */
export const driftOwner = async (work: Work, systemId: string): Promise<string | null> => {
  const [row] = await rawRows<{ technical: string | null; business: string | null }>(work.tx, sql`
    SELECT (SELECT id FROM identities WHERE id = s.technical_owner_id AND status = 'active') AS technical,
           (SELECT id FROM identities WHERE id = s.business_owner_id AND status = 'active') AS business
    FROM systems s WHERE s.id = ${systemId}`);
  return row?.technical ?? row?.business ?? null;
};
