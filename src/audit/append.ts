import { sql } from 'drizzle-orm';
import { rawRows, type Tx } from '../store/database.js';
import { canonicalEventParts, chainHash } from './chain.js';
import type { Actor, AuditInput } from './event-types.js';

const INSERT_CHUNK = 5000;

/**
 * An event ready to be chained: its canonical text but for the seq (`head` + seq + `tail`), the same
 * two parts escaped as JSON string content, and its other columns as JSON members. Only the seq and
 * the hash are left for the time the head is locked.
 */
interface Prepared { head: string; tail: string; jsonHead: string; jsonTail: string; columns: string }

const prepare = (at: Date, actor: Actor, input: AuditInput): Prepared => {
  const { head, tail } = canonicalEventParts(at, actor, input);
  // Both parts meet the seq at ASCII characters, so escaping them apart equals escaping the whole.
  const columns = JSON.stringify({ action: input.action, subject_type: input.subject.type, subject_id: input.subject.id,
    identity_id: input.identityId ?? null, system_id: input.systemId ?? null });
  return { head, tail, jsonHead: JSON.stringify(head).slice(0, -1), jsonTail: JSON.stringify(tail).slice(1), columns: columns.slice(1, -1) };
};

/**
 * One INSERT of a JSON array of rows: a batch of expiries writes thousands of events, and one JSON
 * parameter is far cheaper for both drivers and both servers than a VALUES list or text arrays.
 */
const insertChunk = async (tx: Tx, at: Date, actor: Actor, rows: readonly string[]): Promise<void> => {
  await tx.execute(sql`
    INSERT INTO audit_events (seq, occurred_at, action, actor_id, channel, subject_type, subject_id, identity_id, system_id, canonical, hash)
    SELECT e.seq, ${at.toISOString()}::timestamptz, e.action, ${actor.id ?? null}::uuid, ${actor.channel}, e.subject_type, e.subject_id,
           e.identity_id, e.system_id, e.canonical, e.hash
    FROM json_to_recordset(${`[${rows.join(',')}]`}::json)
         AS e(seq bigint, action text, subject_type text, subject_id text, identity_id uuid, system_id uuid, canonical text, hash text)`);
};

/**
 * Appends events to the chain inside the caller's transaction, so a state change and its audit
 * events commit together or not at all. The head row is locked FOR UPDATE: concurrent writers queue
 * here, each one chaining onto the hash the previous one committed, so the chain never forks.
 * The lock is held to commit, so each event is canonicalised before it is taken; under it, only
 * the seq is put in and the hash computed (measured: 5,000 expiries held it 0.45 s, 0.16 s of which
 * was canonicalising them).
 */
export const appendAuditEvents = async (tx: Tx, at: Date, actor: Actor, inputs: AuditInput[]): Promise<number> => {
  if (inputs.length === 0) return 0;
  const prepared = inputs.map((input) => prepare(at, actor, input));
  const [head] = await rawRows<{ seq: string | number; hash: string }>(tx, sql`SELECT seq, hash FROM audit_head WHERE id = 1 FOR UPDATE`);
  if (!head) throw new Error('audit head row is missing: the database was not migrated');
  let seq = Number(head.seq);
  let hash = head.hash;
  let chunk: string[] = [];
  for (const p of prepared) {
    seq += 1;
    hash = chainHash(hash, `${p.head}${seq}${p.tail}`);
    chunk.push(`{"seq":${seq},"hash":"${hash}","canonical":${p.jsonHead}${seq}${p.jsonTail},${p.columns}}`);
    if (chunk.length === INSERT_CHUNK) { await insertChunk(tx, at, actor, chunk); chunk = []; }
  }
  if (chunk.length > 0) await insertChunk(tx, at, actor, chunk);
  await tx.execute(sql`UPDATE audit_head SET seq = ${seq}, hash = ${hash} WHERE id = 1`);
  return seq;
};
