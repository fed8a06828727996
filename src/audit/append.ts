import { eq } from 'drizzle-orm';
import type { Tx } from '../store/database.js';
import { auditEvents, auditHead } from '../store/schema.js';
import { canonicalEvent, chainHash } from './chain.js';
import type { Actor, AuditInput } from './event-types.js';

const INSERT_CHUNK = 1000;

/**
 * Appends events to the chain inside the caller's transaction, so a state change and its audit
 * events commit together or not at all. The head row is locked FOR UPDATE: concurrent writers queue
 * here, each one chaining onto the hash the previous one committed, so the chain never forks.
 */
export const appendAuditEvents = async (tx: Tx, at: Date, actor: Actor, inputs: AuditInput[]): Promise<number> => {
  if (inputs.length === 0) return 0;
  const [head] = await tx.select().from(auditHead).where(eq(auditHead.id, 1)).for('update');
  if (!head) throw new Error('audit head row is missing: the database was not migrated');
  let { seq, hash } = head;
  const rows: (typeof auditEvents.$inferInsert)[] = [];
  for (const input of inputs) {
    seq += 1;
    const canonical = canonicalEvent(seq, at, actor, input);
    hash = chainHash(hash, canonical);
    rows.push({
      seq, occurredAt: at, action: input.action, actorId: actor.id ?? null, channel: actor.channel,
      subjectType: input.subject.type, subjectId: input.subject.id,
      identityId: input.identityId ?? null, systemId: input.systemId ?? null, canonical, hash,
    });
  }
  for (let i = 0; i < rows.length; i += INSERT_CHUNK) {
    await tx.insert(auditEvents).values(rows.slice(i, i + INSERT_CHUNK));
  }
  await tx.update(auditHead).set({ seq, hash }).where(eq(auditHead.id, 1));
  return seq;
};
