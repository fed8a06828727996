/**
 * Turns a mailed event into the people it goes to (domain/mail.ts says who by role; this finds
 * them). Someone without an e-mail address is written to through their sponsor, else their owner,
 * else their manager, with a line saying on whose behalf; with none of those reachable either the
 * message is kept with status `no_address` and never sent, so it stays visible in the outbox.
 */
import { eq, inArray } from 'drizzle-orm';
import { isUrgent, MAIL_RULES, type MailAudience } from '../domain/mail.js';
import type { Executor } from '../store/database.js';
import { accessRequests, identities, roleAssignments } from '../store/schema.js';
import type { WebhookEvent } from '../webhooks/events.js';

type Person = Pick<typeof identities.$inferSelect, 'id' | 'handle' | 'displayName' | 'email' | 'mailDelivery' | 'sponsorId' | 'ownerId' | 'managerId'>;

export interface Recipient {
  /** Who the event concerns. */
  person: Person;
  /** Whose mailbox it goes to: the person, or their sponsor, owner or manager; undefined when nobody can be reached. */
  mailbox: Person | undefined;
  urgent: boolean;
}

const columns = {
  id: identities.id, handle: identities.handle, displayName: identities.displayName, email: identities.email,
  mailDelivery: identities.mailDelivery, sponsorId: identities.sponsorId, ownerId: identities.ownerId, managerId: identities.managerId,
};

const handlesOf = (event: WebhookEvent, audience: MailAudience, requesterOfGrant: Map<string, string>): string[] => {
  const d = event.payload.data;
  const one = (value: unknown) => (typeof value === 'string' ? [value] : []);
  switch (audience) {
    case 'approvers': return Array.isArray(d.approvers) ? d.approvers.filter((a): a is string => typeof a === 'string') : [];
    case 'beneficiary': return one(d.beneficiary ?? d.identity);
    case 'requester': return one(d.requester ?? requesterOfGrant.get(String(d.requestId)));
    case 'reviewer': return one(d.reviewer);
    case 'owner': return one(d.owner);
    case 'sponsor': return one(d.sponsor);
    case 'security': case 'iam': return [];
  }
};

/** Grants carry their request's id; the requester (who may not be the beneficiary) is looked up once per batch. */
const requestersOfGrants = async (exec: Executor, events: WebhookEvent[]): Promise<Map<string, string>> => {
  const ids = [...new Set(events.map((e) => e.payload.data.requestId).filter((id): id is string => typeof id === 'string'))];
  if (ids.length === 0) return new Map();
  const rows = await exec.select({ id: accessRequests.id, handle: identities.handle }).from(accessRequests)
    .innerJoin(identities, eq(identities.id, accessRequests.requesterId)).where(inArray(accessRequests.id, ids));
  return new Map(rows.map((r) => [r.id, r.handle]));
};

/** The audiences that are a role: every holder of it. */
const ROLE_AUDIENCES = ['security', 'iam'] as const satisfies readonly MailAudience[];
type RoleAudience = (typeof ROLE_AUDIENCES)[number];

const holdersOf = async (exec: Executor, roles: RoleAudience[]): Promise<(Person & { role: string })[]> => (roles.length === 0 ? []
  : exec.selectDistinct({ ...columns, role: roleAssignments.role }).from(identities)
    .innerJoin(roleAssignments, eq(roleAssignments.identityId, identities.id)).where(inArray(roleAssignments.role, roles)));

const byId = async (exec: Executor, ids: string[]): Promise<Map<string, Person>> => {
  if (ids.length === 0) return new Map();
  const rows = await exec.select(columns).from(identities).where(inArray(identities.id, [...new Set(ids)]));
  return new Map(rows.map((r) => [r.id, r]));
};

/** The recipients of each event, in the order of `events`; one entry per person even if they fill two roles. */
export const recipientsOf = async (exec: Executor, events: WebhookEvent[]): Promise<Recipient[][]> => {
  const requesterOfGrant = await requestersOfGrants(exec, events);
  const wanted = events.map((event) => {
    const rule = MAIL_RULES[event.payload.type];
    return { event, handles: new Set(rule?.audience.flatMap((a) => handlesOf(event, a, requesterOfGrant)) ?? []),
      roles: ROLE_AUDIENCES.filter((role) => rule?.audience.includes(role)) };
  });
  const handles = [...new Set(wanted.flatMap((w) => [...w.handles]))];
  const people = handles.length ? await exec.select(columns).from(identities).where(inArray(identities.handle, handles)) : [];
  const roleHolders = await holdersOf(exec, [...new Set(wanted.flatMap((w) => w.roles))]);
  const everyone = [...people, ...roleHolders];
  const contacts = await byId(exec, everyone.filter((p) => !p.email).flatMap((p) => [p.sponsorId, p.ownerId, p.managerId]).filter((id): id is string => !!id));
  const mailboxOf = (p: Person): Person | undefined => (p.email ? p
    : [p.sponsorId, p.ownerId, p.managerId].map((id) => (id ? contacts.get(id) : undefined)).find((c) => c?.email));
  const byHandle = new Map(people.map((p) => [p.handle, p]));
  return wanted.map(({ event, handles: named, roles }) => {
    const chosen = new Map<string, Person>();
    for (const h of named) { const p = byHandle.get(h); if (p) chosen.set(p.id, p); }
    for (const { role, ...p } of roleHolders) if ((roles as string[]).includes(role)) chosen.set(p.id, p);
    const urgent = isUrgent(event.payload.type, event.payload.data);
    return [...chosen.values()].map((person) => ({ person, mailbox: mailboxOf(person), urgent }));
  });
};
