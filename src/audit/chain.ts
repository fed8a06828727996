import { createHash } from 'node:crypto';
import canonicalize from 'canonicalize';
import type { Actor, AuditInput } from './event-types.js';

export const GENESIS_HASH = '0'.repeat(64);

/** The content of an event as it is hashed: RFC 8785 canonical JSON, so any reader can recompute it. */
export const canonicalEvent = (seq: number, at: Date, actor: Actor, input: AuditInput): string => {
  const body = {
    v: 1,
    seq,
    at: at.toISOString(),
    action: input.action,
    actor: { id: actor.id ?? null, channel: actor.channel, osUser: actor.osUser, tokenId: actor.tokenId },
    subject: input.subject,
    identityId: input.identityId ?? null,
    systemId: input.systemId ?? null,
    before: input.before ?? null,
    after: input.after ?? null,
    reason: input.reason ?? null,
    ticket: input.ticket ?? null,
    data: input.data ?? null,
  };
  const text = canonicalize(JSON.parse(JSON.stringify(body)));
  if (text === undefined) throw new Error('audit event could not be canonicalised');
  return text;
};

/** hash(n) = SHA-256(hash(n-1) as 32 bytes || canonical bytes of event n). */
export const chainHash = (previousHex: string, canonical: string): string =>
  createHash('sha256').update(Buffer.from(previousHex, 'hex')).update(canonical, 'utf8').digest('hex');
