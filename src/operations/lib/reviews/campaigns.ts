/**
 * Opening an access review campaign inside a unit of work: one item per live grant, each assigned to
 * a person who does not hold it, with the evidence the reviewer needs snapshotted at that moment.
 * Used by ad hoc and scheduled campaigns, engagement renewal, and the HR feed (mover, offboarding).
 */
import { and, eq, gt, inArray, isNull, max, or, type SQL } from 'drizzle-orm';
import { newId } from '../../../domain/ids.js';
import { isHuman, type GrantStatus } from '../../../domain/model.js';
import { partiesOfIdentity } from '../../../domain/parties.js';
import { defaultUndecided, type CampaignTrigger, type ReviewerRule, type ReviewEvidence, type UndecidedAction } from '../../../domain/reviews.js';
import type { Executor } from '../../../store/database.js';
import { handlesById } from '../../../store/queries/identities.js';
import { engagements, entitlements, grants, identities, requestStages, systems } from '../../../store/schema.js';
import { reviewCampaigns, reviewItems } from '../../../store/schema-reviews.js';
import { accessEvents } from '../../../store/schema-service.js';
import type { Work } from '../../../work/context.js';

export interface CampaignSpec {
  name: string;
  trigger: CampaignTrigger;
  policyKey?: string | null;
  /** As asked, stored for the evidence. */
  scope: Record<string, unknown>;
  /** A condition over `grants` selecting the grants to review; only live ones (scheduled, active) are taken. */
  grants: SQL;
  /** Identity id when fixed. */
  reviewer: ReviewerRule | { fixed: string };
  dueAt: Date;
  /** null: the default for the holder's kind, per item. */
  undecided: UndecidedAction | null;
  engagementId?: string | null;
  renewalEndsAt?: Date | null;
}

export interface OpenedCampaign { campaignId: string | null; items: number; unassigned: string[] }

const LIVE: GrantStatus[] = ['scheduled', 'active'];
/** Rows per INSERT: well under PostgreSQL's limit on bound parameters. */
const CHUNK = 500;

const chunks = <T>(list: readonly T[]): T[][] =>
  Array.from({ length: Math.ceil(list.length / CHUNK) }, (_, i) => list.slice(i * CHUNK, (i + 1) * CHUNK));

/** Live: scheduled or active, and not past an end the worker has yet to act on. */
const liveWhere = (where: SQL, now: Date) => and(where, inArray(grants.status, LIVE), or(isNull(grants.endsAt), gt(grants.endsAt, now)))!;

const grantsToReview = (work: Work, where: SQL) => work.tx.select({
  id: grants.id, identityId: grants.identityId, startsAt: grants.startsAt, endsAt: grants.endsAt, origin: grants.origin, systemId: systems.id,
  entitlement: entitlements.key, tier: entitlements.tier, businessOwnerId: systems.businessOwnerId, technicalOwnerId: systems.technicalOwnerId,
  holder: { handle: identities.handle, kind: identities.kind, sponsorId: identities.sponsorId, ownerId: identities.ownerId, managerId: identities.managerId,
    createdBy: identities.createdBy },
  engagement: { id: engagements.id, purpose: engagements.purpose, endsAt: engagements.endsAt, sponsorId: engagements.sponsorId },
}).from(grants)
  .innerJoin(entitlements, eq(entitlements.id, grants.entitlementId))
  .innerJoin(systems, eq(systems.id, entitlements.systemId))
  .innerJoin(identities, eq(identities.id, grants.identityId))
  .leftJoin(engagements, eq(engagements.id, grants.engagementId))
  .where(liveWhere(where, work.now));

type Row = Awaited<ReturnType<typeof grantsToReview>>[number];

/** The last time the decision point allowed each grant's use, for the grants `where` selects. */
export const lastUsesOf = async (exec: Executor, where: SQL): Promise<Map<string, Date>> => {
  const rows = await exec.select({ grantId: grants.id, at: max(accessEvents.at) }).from(accessEvents)
    .innerJoin(grants, eq(grants.id, accessEvents.grantId))
    .where(and(where, eq(accessEvents.allowed, true))).groupBy(grants.id);
  return new Map(rows.filter((r) => r.at !== null).map((r) => [r.grantId, new Date(r.at!)]));
};

/** Who approved each stage of the request behind each grant, in stage order. */
const approvalsOf = async (work: Work, where: SQL): Promise<Map<string, ReviewEvidence['approvals']>> => {
  const rows = await work.tx.select({ grantId: grants.id, stage: requestStages.kind, by: requestStages.decidedBy, at: requestStages.decidedAt })
    .from(requestStages).innerJoin(grants, eq(grants.requestId, requestStages.requestId))
    .where(and(liveWhere(where, work.now), eq(requestStages.status, 'approved'))).orderBy(requestStages.position);
  const handles = await handlesById(work.tx, rows.flatMap((r) => (r.by ? [r.by] : [])));
  const byGrant = new Map<string, ReviewEvidence['approvals']>();
  for (const r of rows) {
    const list = byGrant.get(r.grantId) ?? [];
    list.push({ stage: r.stage, approver: r.by ? handles.get(r.by) ?? r.by : null, decidedAt: r.at?.toISOString() ?? null });
    byGrant.set(r.grantId, list);
  }
  return byGrant;
};

/** The person the campaign's rule names for this grant (a service account answers through its owner). */
const ruleCandidate = (reviewer: CampaignSpec['reviewer'], row: Row): string | null => {
  if (typeof reviewer === 'object') return reviewer.fixed;
  if (reviewer === 'manager') return row.holder.managerId;
  if (reviewer === 'system_owner') return row.businessOwnerId;
  if (row.holder.kind === 'service_account') return row.holder.ownerId;
  return row.engagement?.sponsorId ?? row.holder.sponsorId;
};

/** Only an active person can review: a service account reviews nothing, a departed person cannot. */
const eligiblePeople = async (work: Work, ids: readonly string[]): Promise<Set<string>> => {
  const ok = new Set<string>();
  for (const part of chunks([...new Set(ids)])) {
    const rows = await work.tx.select({ id: identities.id, kind: identities.kind, status: identities.status })
      .from(identities).where(inArray(identities.id, part));
    for (const r of rows) if (r.status === 'active' && isHuman(r.kind)) ok.add(r.id);
  }
  return ok;
};

/**
 * The rule's person, then the system's business owner, then its technical owner: the first who is
 * an eligible person. The holder's parties are ruled out before anything else: nobody reviews their
 * own access, nor that of an identity they created or (a service account) own.
 */
const reviewerOf = (reviewer: CampaignSpec['reviewer'], row: Row, eligible: Set<string>): string | undefined => {
  const parties = partiesOfIdentity({ id: row.identityId, kind: row.holder.kind, createdBy: row.holder.createdBy, ownerId: row.holder.ownerId });
  return [ruleCandidate(reviewer, row), row.businessOwnerId, row.technicalOwnerId]
    .filter((id): id is string => !!id && !parties.includes(id))
    .find((id) => eligible.has(id));
};

const evidenceOf = (row: Row, approvals: ReviewEvidence['approvals'], lastUsedAt: Date | undefined): ReviewEvidence => ({
  entitlement: row.entitlement, tier: row.tier,
  holder: { handle: row.holder.handle, kind: row.holder.kind },
  grantedAt: row.startsAt.toISOString(), endsAt: row.endsAt?.toISOString() ?? null, origin: row.origin, approvals,
  engagement: row.engagement ? { id: row.engagement.id, purpose: row.engagement.purpose, endsAt: row.engagement.endsAt.toISOString() } : null,
  lastUsedAt: lastUsedAt?.toISOString() ?? null,
});

/**
 * Opens the campaign `spec` describes. A grant nobody eligible can review is not an item: its id is
 * returned in `unassigned` and listed in the campaign's audit event. With no item at all, no campaign
 * is created (`campaignId` null).
 */
export const openCampaign = async (work: Work, spec: CampaignSpec): Promise<OpenedCampaign> => {
  const rows = await grantsToReview(work, spec.grants);
  const eligible = await eligiblePeople(work, rows.flatMap((r) => [ruleCandidate(spec.reviewer, r), r.businessOwnerId, r.technicalOwnerId])
    .filter((id): id is string => !!id));
  const assigned = rows.map((row) => ({ row, reviewerId: reviewerOf(spec.reviewer, row, eligible) }));
  const unassigned = assigned.filter((a) => !a.reviewerId).map((a) => a.row.id);
  const items = assigned.filter((a): a is { row: Row; reviewerId: string } => !!a.reviewerId);
  if (items.length === 0) return { campaignId: null, items: 0, unassigned };

  const [approvals, lastUses] = [await approvalsOf(work, spec.grants), await lastUsesOf(work.tx, liveWhere(spec.grants, work.now))];
  const campaignId = newId();
  await work.tx.insert(reviewCampaigns).values({
    id: campaignId, name: spec.name, trigger: spec.trigger, policyKey: spec.policyKey ?? null, scope: spec.scope, status: 'open',
    dueAt: spec.dueAt, engagementId: spec.engagementId ?? null, renewalEndsAt: spec.renewalEndsAt ?? null,
    createdBy: work.actor.id ?? null, createdAt: work.now,
  });
  for (const part of chunks(items)) {
    await work.tx.insert(reviewItems).values(part.map(({ row, reviewerId }) => ({
      id: newId(), campaignId, grantId: row.id, identityId: row.identityId, reviewerId, status: 'pending' as const,
      undecided: spec.undecided ?? defaultUndecided(row.holder.kind),
      evidence: evidenceOf(row, approvals.get(row.id) ?? [], lastUses.get(row.id)), createdAt: work.now,
    })));
  }
  const holders = new Set(items.map((i) => i.row.identityId));
  work.record({
    action: 'review.campaign_opened', subject: { type: 'review_campaign', id: campaignId },
    identityId: holders.size === 1 ? [...holders][0] : null,
    after: { name: spec.name, trigger: spec.trigger, policyKey: spec.policyKey ?? null, dueAt: spec.dueAt, items: items.length,
      reviewers: new Set(items.map((i) => i.reviewerId)).size, holders: holders.size, undecided: spec.undecided ?? 'by holder kind',
      engagementId: spec.engagementId ?? null, renewalEndsAt: spec.renewalEndsAt ?? null },
    data: { scope: spec.scope, unassigned },
  });
  return { campaignId, items: items.length, unassigned };
};
