/**
 * Opening and closing findings inside a unit of work. A finding is identified by its key (the
 * condition it describes), so the same condition seen again refreshes the open finding rather than
 * opening a second one, and each opening and closing is an audit event.
 */
import { and, eq, inArray, lt, type SQL } from 'drizzle-orm';
import { FINDING_KINDS, type FindingKind, type Severity } from '../../domain/findings.js';
import { newId } from '../../domain/ids.js';
import { findings } from '../../store/schema-provisioning.js';
import type { Work } from '../context.js';

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

/** Opens the finding, or refreshes the open one with the same key. Returns its id and whether it is new. */
export const openFinding = async (work: Work, input: FindingInput): Promise<{ id: string; opened: boolean }> => {
  const [open] = await work.tx.select({ id: findings.id }).from(findings)
    .where(and(eq(findings.key, input.key), eq(findings.status, 'open'))).for('update');
  if (open) {
    await work.tx.update(findings).set({ lastSeenAt: work.now, evidence: input.evidence, summary: input.summary })
      .where(eq(findings.id, open.id));
    return { id: open.id, opened: false };
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
  const open = await work.tx.select().from(findings).where(and(where, eq(findings.status, 'open'))).for('update');
  if (open.length === 0) return 0;
  await work.tx.update(findings).set({ status: 'resolved', resolvedAt: work.now, resolvedBy: work.actor.id ?? null, resolution })
    .where(inArray(findings.id, open.map((f) => f.id)));
  for (const finding of open) {
    work.record({ action: 'finding.resolved', subject: { type: 'finding', id: finding.id }, identityId: finding.identityId,
      systemId: finding.systemId, before: { status: 'open' }, after: { status: 'resolved', kind: finding.kind }, reason: resolution });
  }
  return open.length;
};

export const resolveFinding = (work: Work, key: string, resolution: string): Promise<number> =>
  resolveFindingsWhere(work, eq(findings.key, key), resolution);

/**
 * Closes open findings of `kinds` on a system that this pass did not see again (every finding seen
 * was refreshed to `work.now` by openFinding): the condition is gone.
 */
export const resolveUnseen = (work: Work, systemId: string, kinds: readonly FindingKind[], resolution: string) =>
  resolveFindingsWhere(work, and(eq(findings.systemId, systemId), inArray(findings.kind, [...kinds]), lt(findings.lastSeenAt, work.now))!,
    resolution);
