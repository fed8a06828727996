import { sql } from 'drizzle-orm';
import { rawRows, type Tx } from '../store/database.js';
import { canonicalEvent, chainHash } from './chain.js';
import type { Actor, AuditInput } from './event-types.js';

const INSERT_CHUNK = 5000;

interface Row { seq: number; action: string; subject_type: string; subject_id: string; identity_id: string | null; system_id: string | null; canonical: string; hash: string }

/**
 * One INSERT of a JSON array of rows: a batch of expiries writes thousands of events, and one JSON
 * parameter is far cheaper for both drivers and both servers than a VALUES list or text arrays.
 */
const insertChunk = async (tx: Tx, at: Date, actor: Actor, rows: Row[]): Promise<void> => {
  await tx.execute(sql`
    INSERT INTO audit_events (seq, occurred_at, action, actor_id, channel, subject_type, subject_id, identity_id, system_id, canonical, hash)
    SELECT e.seq, ${at.toISOString()}::timestamptz, e.action, ${actor.id ?? null}::uuid, ${actor.channel}, e.subject_type, e.subject_id,
           e.identity_id, e.system_id, e.canonical, e.hash
    FROM json_to_recordset(${JSON.stringify(rows)}::json)
         AS e(seq bigint, action text, subject_type text, subject_id text, identity_id uuid, system_id uuid, canonical text, hash text)`);
};

/**
 * Appends events to the chain inside the caller's transaction, so a state change and its audit
 * events commit together or not at all. The head row is locked FOR UPDATE: concurrent writers queue
 * here, each one chaining onto the hash the previous one committed, so the chain never forks.
 */
export const appendAuditEvents = async (tx: Tx, at: Date, actor: Actor, inputs: AuditInput[]): Promise<number> => {
  if (inputs.length === 0) return 0;
  const [head] = await rawRows<{ seq: string | number; hash: string }>(tx, sql`SELECT seq, hash FROM audit_head WHERE id = 1 FOR UPDATE`);
  if (!head) throw new Error('audit head row is missing: the database was not migrated');
  let seq = Number(head.seq);
  let hash = head.hash;
  let chunk: Row[] = [];
  for (const input of inputs) {
    seq += 1;
    const canonical = canonicalEvent(seq, at, actor, input);
    hash = chainHash(hash, canonical);
    chunk.push({ seq, action: input.action, subject_type: input.subject.type, subject_id: input.subject.id,
      identity_id: input.identityId ?? null, system_id: input.systemId ?? null, canonical, hash });
    if (chunk.length === INSERT_CHUNK) { await insertChunk(tx, at, actor, chunk); chunk = []; }
  }
  if (chunk.length > 0) await insertChunk(tx, at, actor, chunk);
  await tx.execute(sql`UPDATE audit_head SET seq = ${seq}, hash = ${hash} WHERE id = 1`);
  return seq;
};
