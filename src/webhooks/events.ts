import { eq, inArray } from 'drizzle-orm';
import { alias } from 'drizzle-orm/pg-core';
import type { Executor } from '../store/database.js';
import { handlesById } from '../store/queries/identities.js';
import { accessRequests, entitlements, grants, identities, requestStages, systems } from '../store/schema.js';
import { loadEngagements, loadVendors } from './engagement-events.js';
import { loadFindings, loadTasks } from './provisioning-events.js';
import { loadCampaignItems, loadCredentials, loadReviewItems } from './review-events.js';
import type { WebhookEventType } from '../domain/webhook-events.js';

export { WEBHOOK_EVENT_TYPES, type WebhookEventType } from '../domain/webhook-events.js';

/**
 * Which webhook events each audit action can become. `request.created` also means the first stage's
 * approvers are needed; a stage approval means the next stage's are, when there is one. A grant
 * created already active is activated then; a scheduled one is announced by its later `grant.activated`.
 * A campaign's opening is also one `review.item_assigned` per item (no audit event of their own: the
 * items are created with the campaign, and the campaign's event is their record).
 */
export const SOURCE_ACTIONS: Readonly<Record<string, readonly WebhookEventType[]>> = {
  'request.created': ['request.created', 'approval.needed'],
  'request.stage_approved': ['approval.needed'],
  'request.escalated': ['request.escalated'],
  'request.denied': ['request.denied'],
  'request.cancelled': ['request.cancelled'],
  'request.expired': ['request.expired'],
  'review.campaign_opened': ['review.campaign_opened', 'review.item_assigned'],
  'review.decided': ['review.item_decided'],
  'review.defaulted': ['review.item_defaulted'],
  'finding.resolved': ['finding.resolved'],
  'credential.rotated': ['credential.rotated'],
  'credential.retired': ['credential.retired'],
  'grant.created': ['grant.activated'],
  'grant.activated': ['grant.activated'],
  'grant.expiring_soon': ['grant.expiring_soon'],
  'grant.expired': ['grant.expired'],
  'grant.revoked': ['grant.revoked'],
  'finding.opened': ['finding.opened'],
  'provisioning.task_opened': ['task.opened'],
  'breakglass.activated': ['breakglass.activated'],
  'engagement.expiring_soon': ['engagement.expiring_soon'],
  'vendor.expiring_soon': ['vendor.expiring_soon'],
  'proxy_session.started': ['session.started'],
  'proxy_session.ended': ['session.ended'],
  'shared_account.handed_over': ['shared_account.turn'],
};

export interface AuditRow { seq: number; occurredAt: Date; action: string; subjectId: string; canonical: string }

export interface WebhookPayload { id: string; type: WebhookEventType; occurredAt: string; data: Record<string, unknown> }
export interface WebhookEvent { seq: number; payload: WebhookPayload }

interface Parsed { after: Record<string, unknown> | null; reason: string | null; data?: Record<string, unknown> | null }

const iso = (value: unknown): string | null => (value == null ? null : new Date(value as string).toISOString());

export const eventKey = (seq: number, type: WebhookEventType): string => `audit:${seq}:${type}`;

/** The (event, type) pairs a batch of audit rows yields, before looking anything up. */
const candidates = (rows: AuditRow[], wanted: ReadonlySet<string>) => rows.flatMap((row) => {
  const parsed = JSON.parse(row.canonical) as Parsed;
  if (row.action === 'grant.created' && parsed.after?.status !== 'active') return [];
  return (SOURCE_ACTIONS[row.action] ?? []).filter((type) => wanted.has(type)).map((type) => ({ row, parsed, type }));
});

const sponsors = alias(identities, 'sponsor');
const requesters = alias(identities, 'requester');

const loadGrants = async (exec: Executor, ids: string[]) => {
  if (ids.length === 0) return new Map();
  const rows = await exec.select({
    grantId: grants.id, identity: identities.handle, identityId: grants.identityId, sponsor: sponsors.handle,
    entitlement: entitlements.key, system: systems.key, origin: grants.origin, startsAt: grants.startsAt, endsAt: grants.endsAt,
    requestId: grants.requestId,
  }).from(grants)
    .innerJoin(identities, eq(identities.id, grants.identityId))
    .leftJoin(sponsors, eq(sponsors.id, identities.sponsorId))
    .innerJoin(entitlements, eq(entitlements.id, grants.entitlementId))
    .innerJoin(systems, eq(systems.id, entitlements.systemId))
    .where(inArray(grants.id, ids));
  return new Map(rows.map((r) => [r.grantId, { ...r, startsAt: iso(r.startsAt), endsAt: iso(r.endsAt) }]));
};

const loadRequests = async (exec: Executor, ids: string[]) => {
  if (ids.length === 0) return new Map();
  const rows = await exec.select({
    requestId: accessRequests.id, kind: accessRequests.kind, beneficiary: identities.handle, beneficiaryId: accessRequests.beneficiaryId,
    requester: requesters.handle, entitlement: entitlements.key, system: systems.key, startsAt: accessRequests.startsAt,
    endsAt: accessRequests.endsAt, ticket: accessRequests.ticket, justification: accessRequests.justification,
    outOfScope: accessRequests.outOfScope,
  }).from(accessRequests)
    .innerJoin(identities, eq(identities.id, accessRequests.beneficiaryId))
    .innerJoin(requesters, eq(requesters.id, accessRequests.requesterId))
    .innerJoin(entitlements, eq(entitlements.id, accessRequests.entitlementId))
    .innerJoin(systems, eq(systems.id, entitlements.systemId))
    .where(inArray(accessRequests.id, ids));
  return new Map(rows.map((r) => [r.requestId, { ...r, startsAt: iso(r.startsAt), endsAt: iso(r.endsAt) }]));
};

interface Stage { position: number; kind: string; approvers: string[] }

/** Every stage of the requests, approvers named by handle, in route order. */
const loadStages = async (exec: Executor, ids: string[]): Promise<Map<string, Stage[]>> => {
  if (ids.length === 0) return new Map();
  const rows = await exec.select().from(requestStages).where(inArray(requestStages.requestId, ids));
  const handles = await handlesById(exec, rows.flatMap((r) => r.approverIds));
  const byRequest = new Map<string, Stage[]>();
  for (const r of rows.sort((a, b) => a.position - b.position)) {
    const list = byRequest.get(r.requestId) ?? [];
    list.push({ position: r.position, kind: r.kind, approvers: r.approverIds.map((id) => handles.get(id) ?? id) });
    byRequest.set(r.requestId, list);
  }
  return byRequest;
};

type Candidate = ReturnType<typeof candidates>[number];
type Lookup = Map<string, Record<string, unknown>>;
type Lookups = {
  grants: Lookup; requests: Lookup; stages: Map<string, Stage[]>; findings: Lookup; tasks: Lookup; engagements: Lookup; vendors: Lookup;
  items: Lookup; campaignItems: Map<string, Record<string, unknown>[]>; credentials: Lookup;
  /** Handles of the people an escalation names (its audit event keeps their ids). */
  people: Map<string, string>;
};

const idList = (value: unknown): string[] => (Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : []);

/** The ids an escalation's audit event names: whoever may decide the stage now, and those it added. */
const escalationIds = (found: Candidate[]): string[] => found.filter((c) => c.type === 'request.escalated')
  .flatMap((c) => [...idList(c.parsed.after?.approverIds), ...idList(c.parsed.after?.escalatedToIds)]);

/** The stage waiting after this event: the first one for a new request, else the one after the stage just approved. */
const stageNeeded = (c: Candidate, stages: Stage[]): Stage | undefined => {
  if (c.row.action === 'request.created') return stages[0];
  const approved = Number(c.parsed.after?.stage);
  return stages.find((s) => s.position > approved);
};

/** A shared account's hand-over: the grant as any grant event has it, and the line as it stood. */
const turnData = (grant: Record<string, unknown>, after: Record<string, unknown>): Record<string, unknown> => {
  const previous = after.previousHolder as Record<string, unknown> | null | undefined;
  return { ...grant, startsAt: iso(after.startsAt) ?? grant.startsAt ?? null, endsAt: iso(after.endsAt) ?? grant.endsAt ?? null,
    previousHolder: previous ? { handle: previous.handle, grantId: previous.grant, ended: previous.ended, at: iso(previous.at) } : null,
    stillWaiting: after.stillWaiting ?? 0 };
};

/**
 * The `data` of one event: ids, handles, keys and times as of now (normally seconds after the
 * event; the audit log keeps the exact history). Never a secret: no tokens, keys or credentials exist
 * on these rows. Undefined when there is nothing to say (no next stage after a stage approval).
 */
const dataOf = (c: Candidate, found: Lookups): Record<string, unknown> | undefined => {
  const id = c.row.subjectId;
  // The session's audit data names everything a receiver needs, and nothing secret.
  if (c.type === 'session.started' || c.type === 'session.ended') return { sessionId: id, ...c.parsed.data };
  if (c.type === 'finding.opened') return found.findings.get(id) ?? { findingId: id };
  if (c.type === 'finding.resolved') return { ...(found.findings.get(id) ?? { findingId: id }), reason: c.parsed.reason };
  if (c.type === 'credential.rotated' || c.type === 'credential.retired') {
    return { ...(found.credentials.get(id) ?? { credentialId: id }), ...(c.type === 'credential.retired' ? { reason: c.parsed.reason } : {}) };
  }
  if (c.type === 'review.item_decided' || c.type === 'review.item_defaulted') {
    return { ...(found.items.get(id) ?? { itemId: id }), status: c.parsed.after?.status ?? null, reason: c.parsed.reason };
  }
  if (c.type === 'review.campaign_opened') {
    const after = c.parsed.after ?? {};
    return { campaignId: id, name: after.name, trigger: after.trigger, policyKey: after.policyKey, dueAt: iso(after.dueAt), items: after.items,
      reviewers: after.reviewers, holders: after.holders, engagementId: after.engagementId };
  }
  if (c.type === 'task.opened') return found.tasks.get(id) ?? { jobId: id };
  if (c.type === 'engagement.expiring_soon') {
    return { ...(found.engagements.get(id) ?? { engagementId: id }), noticeBeforeMs: c.parsed.after?.noticeBeforeMs ?? null };
  }
  if (c.type === 'vendor.expiring_soon') {
    return { ...(found.vendors.get(id) ?? { vendorId: id }), noticeBeforeMs: c.parsed.after?.noticeBeforeMs ?? null };
  }
  if (c.type.startsWith('request.') || c.type === 'approval.needed') {
    const request = found.requests.get(id) ?? { requestId: id };
    const stages = found.stages.get(id) ?? [];
    if (c.type === 'request.created') return { ...request, stages };
    if (c.type === 'request.escalated') {
      const after = c.parsed.after ?? {};
      const handles = (key: string) => idList(after[key]).map((pid) => found.people.get(pid) ?? pid);
      return { ...request, stage: { position: after.stage, kind: after.kind }, approvers: handles('approverIds'),
        escalatedTo: handles('escalatedToIds'), waitingSince: iso(after.waitingSince), reason: c.parsed.reason };
    }
    if (c.type !== 'approval.needed') return { ...request, reason: c.parsed.reason };
    const stage = stageNeeded(c, stages);
    return stage ? { ...request, stage: { position: stage.position, kind: stage.kind }, approvers: stage.approvers } : undefined;
  }
  const grant = found.grants.get(id) ?? { grantId: id };
  if (c.type === 'breakglass.activated') {
    const after = c.parsed.after ?? {};
    return { ...grant, incident: after.incident, reason: c.parsed.reason, reviewId: after.reviewId, reviewDueAt: iso(after.reviewDueAt) };
  }
  if (c.type === 'shared_account.turn') return turnData(grant, c.parsed.after ?? {});
  const endsAt = iso(c.parsed.after?.endsAt) ?? grant.endsAt ?? null;
  const ended = c.type === 'grant.expired' || c.type === 'grant.revoked';
  const reminder = c.type === 'grant.expiring_soon' ? { noticeBeforeMs: c.parsed.after?.noticeBeforeMs ?? null } : {};
  return { ...grant, endsAt, ...(ended ? { reason: c.parsed.reason } : {}), ...reminder };
};

/** Maps a batch of audit rows to the webhook events the subscriptions want, with their payloads. */
export const webhookEventsOf = async (exec: Executor, rows: AuditRow[], wanted: ReadonlySet<string>): Promise<WebhookEvent[]> => {
  const found = candidates(rows, wanted);
  const ids = (prefix: string) => [...new Set(found.filter((c) => c.type.startsWith(prefix)).map((c) => c.row.subjectId))];
  const grantIds = [...ids('grant.'), ...ids('breakglass.'), ...ids('shared_account.')];
  const requestIds = [...ids('request.'), ...ids('approval.')];
  const lookups: Lookups = {
    grants: await loadGrants(exec, grantIds),
    requests: await loadRequests(exec, requestIds),
    stages: await loadStages(exec, requestIds),
    findings: await loadFindings(exec, ids('finding.')),
    tasks: await loadTasks(exec, ids('task.')),
    engagements: await loadEngagements(exec, ids('engagement.')),
    vendors: await loadVendors(exec, ids('vendor.')),
    items: await loadReviewItems(exec, [...ids('review.item_decided'), ...ids('review.item_defaulted')]),
    campaignItems: await loadCampaignItems(exec, ids('review.item_assigned')),
    credentials: await loadCredentials(exec, ids('credential.')),
    people: await handlesById(exec, escalationIds(found)),
  };
  const occurredAt = (c: Candidate) => iso(c.row.occurredAt)!;
  return found.flatMap((c): WebhookEvent[] => {
    if (c.type === 'review.item_assigned') {
      // One event per item; the item id in the key keeps each delivery distinct and stable across retries.
      return (lookups.campaignItems.get(c.row.subjectId) ?? []).map((item) => ({ seq: c.row.seq,
        payload: { id: `${eventKey(c.row.seq, c.type)}:${String(item.itemId)}`, type: c.type, occurredAt: occurredAt(c), data: item } }));
    }
    const data = dataOf(c, lookups);
    if (!data) return [];
    return [{ seq: c.row.seq, payload: { id: eventKey(c.row.seq, c.type), type: c.type, occurredAt: occurredAt(c), data } }];
  });
};
