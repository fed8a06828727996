import { eq, inArray } from 'drizzle-orm';
import { z } from 'zod';
import { searchAuditEvents, type AuditFilters, type AuditRecord } from '../audit/search.js';
import { TenureError } from '../domain/errors.js';
import { isUuid } from '../domain/ids.js';
import { findIdentity, handlesById } from '../store/queries/identities.js';
import { auditHead, engagements, entitlements, grants, systems } from '../store/schema.js';
import { readsThatMayLag, type Executor } from '../store/database.js';
import type { Context } from '../work/context.js';
import { parseInput, ref } from './input.js';
import { authorize } from './authorize.js';
import { sessionViews, sharedAccountsFirst } from './lib/proxy-sessions/views.js';
import { proxySessions } from '../store/schema-proxy.js';

export const Input = z.object({ subject: z.enum(['identity', 'engagement', 'system']), ref }).strict();

const PAGE = 5000;
/** An evidence pack is for one subject: beyond this many events, narrow it (a system over a period: audit export). */
const MAX_EVENTS = 200_000;

/** The sections an auditor reads, by audit action. */
const SECTIONS: Record<string, string[]> = {
  requests: ['request.created', 'request.cancelled', 'request.expired', 'request.denied', 'request.approved', 'request.shortened', 'request.rerouted'],
  approvals: ['request.stage_approved', 'exception.created'],
  grants: ['grant.created', 'grant.activated', 'grant.extended', 'grant.shortened', 'grant.provisioned', 'provisioning.task_confirmed:provision'],
  reviews: ['breakglass.activated', 'breakglass.reviewed', 'review.decided', 'review.defaulted', 'review.item_voided',
    'engagement.renewal_requested', 'engagement.renewed', 'engagement.renewal_lapsed'],
  removals: ['grant.expired', 'grant.revoked', 'grant.deprovisioned', 'provisioning.task_confirmed:deprovision', 'access.drift_removed'],
  findings: ['finding.opened', 'finding.accepted', 'finding.resolved', 'finding.reopened'],
  sessions: ['proxy_session.started', 'proxy_session.ended', 'proxy_session.recording_purged'],
};

/** A manual task's confirmation belongs with the grants or the removals, by what the task was. */
const sectionKey = (e: AuditRecord): string =>
  e.action === 'provisioning.task_confirmed' ? `${e.action}:${(e.data as { action?: string } | null)?.action ?? ''}` : e.action;

export const allEvents = async (exec: Executor, filters: AuditFilters): Promise<AuditRecord[]> => {
  const events: AuditRecord[] = [];
  for (let afterSeq = 0; ;) {
    const page = await searchAuditEvents(exec, { ...filters, afterSeq, limit: PAGE });
    events.push(...page);
    if (page.length < PAGE) return events;
    if (events.length >= MAX_EVENTS) throw new TenureError('input.invalid', `ref: more than ${MAX_EVENTS} events; use audit export with a period`, { field: 'ref' });
    afterSeq = page[page.length - 1]!.seq;
  }
};

const subjectFilters = async (exec: Executor, data: z.infer<typeof Input>) => {
  if (data.subject === 'identity') {
    const who = await findIdentity(exec, data.ref, 'ref');
    return { title: `identity ${who.handle}`, filters: { identityId: who.id }, grantWhere: eq(grants.identityId, who.id) };
  }
  if (data.subject === 'system') {
    const [system] = await exec.select().from(systems).where(eq(systems.key, data.ref));
    if (!system) throw new TenureError('system.not_found', `no system '${data.ref}'`, { field: 'ref' });
    return { title: `system ${system.key}`, filters: { systemId: system.id }, grantWhere: eq(entitlements.systemId, system.id) };
  }
  const [engagement] = isUuid(data.ref) ? await exec.select().from(engagements).where(eq(engagements.id, data.ref)) : [];
  if (!engagement) throw new TenureError('engagement.not_found', `no engagement '${data.ref}'`, { field: 'ref' });
  // The engagement's person, over the engagement's dates: what happened under it.
  return { title: `engagement ${engagement.id}`, filters: { identityId: engagement.identityId, from: engagement.startsAt },
    grantWhere: eq(grants.engagementId, engagement.id) };
};

/**
 * `tenure evidence`: everything an auditor asks about one identity, engagement or system, with each
 * event's chain position and hash, so every line can be checked against `tenure audit verify` and
 * the signed checkpoints. Grants come with their provisioning state and the target's confirmation.
 */
export const buildEvidencePack = async (ctx: Context, input: z.input<typeof Input>) => {
  const data = parseInput(Input, input);
  await authorize(ctx, 'audit.read');
  // From the replica when there is one: a pack may lag the primary, and states the chain head it is current to.
  const exec = readsThatMayLag(ctx.store);
  const { title, filters, grantWhere } = await subjectFilters(exec, data);
  const events = await allEvents(exec, filters);
  const grantRows = await exec.select({ g: grants, key: entitlements.key }).from(grants)
    .innerJoin(entitlements, eq(entitlements.id, grants.entitlementId)).where(grantWhere);
  return assemblePack(ctx, title, events, grantRows);
};

type GrantRow = { g: typeof grants.$inferSelect; key: string };

/** The pack's common body, whatever its subject (which may add sections of its own, `before` the common ones): chain head, grants with their provisioning, events by section and in order. */
export const assemblePack = async (ctx: Context, title: string, events: AuditRecord[], grantRows: GrantRow[], before: Record<string, string[]> = {}) => {
  // Where the events were read: its chain head is the one they are current to.
  const exec = readsThatMayLag(ctx.store);
  // The generator too: an auditor with no event of their own in the pack is still named by handle.
  const handles = await handlesById(exec, [ctx.actor.id, ...events.map((e) => e.actor.id), ...events.map((e) => e.actor.issuedBy), ...events.map((e) => e.identityId),
    ...grantRows.map((r) => r.g.identityId)].filter((id): id is string => !!id));
  const [head] = await exec.select().from(auditHead).where(eq(auditHead.id, 1));
  // Sessions through the access proxy under the pack's grants, each with its digest checked against the chain.
  const grantIds = grantRows.map((r) => r.g.id);
  const sessions = grantIds.length === 0 ? [] : sharedAccountsFirst((await sessionViews(exec, inArray(proxySessions.grantId, grantIds))).reverse());
  const item = (e: AuditRecord) => ({
    seq: e.seq, hash: e.hash, at: e.at, action: e.action, actor: e.actor.id ? handles.get(e.actor.id) ?? e.actor.id : e.actor.channel,
    channel: e.actor.channel, issuedBy: e.actor.issuedBy ? handles.get(e.actor.issuedBy) ?? e.actor.issuedBy : null,
    subject: e.subject, identity: e.identityId ? handles.get(e.identityId) ?? e.identityId : null,
    before: e.before, after: e.after, reason: e.reason, ticket: e.ticket,
  });
  // A subject's own sections (`before`) come first: a vendor's contract reads before its people's requests.
  const sections = Object.fromEntries(Object.entries({ ...before, ...SECTIONS }).map(([name, actions]) =>
    [name, events.filter((e) => actions.includes(sectionKey(e))).map(item)]));
  return {
    title, generatedAt: ctx.clock.now(), generatedBy: handles.get(ctx.actor.id ?? '') ?? ctx.actor.id ?? null,
    chainHead: head ? { seq: Number(head.seq), hash: head.hash } : null,
    grants: grantRows.map(({ g, key }) => ({
      id: g.id, identity: handles.get(g.identityId) ?? g.identityId, entitlement: key, origin: g.origin, status: g.status,
      startsAt: g.startsAt, endsAt: g.endsAt, endedAt: g.endedAt, endReason: g.endReason, provisioningState: g.provisioningState,
      provisioningConfirmedAt: g.provisioningConfirmedAt, provisioningEvidence: g.provisioningEvidence,
    })),
    proxySessions: sessions.map((s) => ({ id: s.id, person: s.person, grant: s.grant, entitlement: s.entitlement, account: s.account, sharedAccount: s.sharedAccount,
      startedAt: s.startedAt, endedAt: s.endedAt, endReason: s.endReason, statements: s.statements, recordingSha256: s.auditedSha256, verified: s.verified })),
    sections, timeline: events.map(item),
  };
};

export type EvidencePack = Awaited<ReturnType<typeof buildEvidencePack>>;
