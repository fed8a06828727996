import type { AuditEvent } from '../api/client';

/** An id as a reader can tell it apart without reading it all: its first eight characters. */
const short = (id: string) => `${id.slice(0, 8)}…`;

/** Who did it, by name when the API knows it: "sam (Sam Sponsor) via web", "worker", "ada (Ada Admin) via cli as root". */
export const actorText = (e: AuditEvent): string => {
  const who = e.actor.label ?? (e.actor.id ? short(e.actor.id) : e.actor.channel);
  if (!e.actor.id) return who;
  return `${who} via ${e.actor.channel}${e.actor.osUser ? ` as ${e.actor.osUser}` : ''}`;
};

/** What it was about: "request carl · payments/read", "identity carl (Carl Contractor)"; the id when nothing names it. */
export const subjectText = (e: AuditEvent): string => `${e.subject.type.replace(/_/g, ' ')} ${e.subject.label ?? short(e.subject.id)}`;
