import { generateKeyPairSync } from 'node:crypto';
import { randomUUID } from 'node:crypto';
import { sql } from 'drizzle-orm';
import { canonicalEvent, chainHash } from '../src/audit/chain.js';
import { writeCheckpoint } from '../src/audit/checkpoint.js';
import type { AuditInput } from '../src/audit/event-types.js';
import { keyIdOf, trustedKeysFrom, type SigningKey } from '../src/audit/signing-key.js';
import { verifyChain } from '../src/audit/verify.js';
import { rawRows, type Store } from '../src/store/database.js';
import { median, type BenchResult } from './report.js';

/** Rows per insert statement: one JSON parameter, so there is no bind-parameter limit to respect. */
const FILL_CHUNK = 5_000;
const RUNS = 3;

interface FillRow {
  seq: number; occurred_at: string; action: string; actor_id: null; channel: string; subject_type: string;
  subject_id: string; identity_id: string; system_id: string; canonical: string; hash: string;
}

/** A grant expiry as the worker writes it: the most common event in a real chain, of typical size. */
const sampleInput = (identityId: string, systemId: string): AuditInput => ({
  action: 'grant.expired',
  subject: { type: 'grant', id: randomUUID() },
  identityId,
  systemId,
  before: { status: 'active', endsAt: '2030-01-02T09:00:00.000Z' },
  after: { status: 'expired', endedAt: '2030-01-02T09:00:00.000Z', endReason: 'expired' },
  reason: 'the access window ended',
});

const insertChunk = async (store: Store, rows: FillRow[]): Promise<void> => {
  await store.db.transaction(async (tx) => {
    await tx.execute(sql`INSERT INTO audit_events
      (seq, occurred_at, action, actor_id, channel, subject_type, subject_id, identity_id, system_id, canonical, hash)
      SELECT seq, occurred_at, action, actor_id, channel, subject_type, subject_id, identity_id, system_id, canonical, hash
      FROM json_to_recordset(${JSON.stringify(rows)}::json) AS r(seq bigint, occurred_at timestamptz, action text,
        actor_id uuid, channel text, subject_type text, subject_id text, identity_id uuid, system_id uuid, canonical text, hash text)`);
  });
};

/**
 * Appends `n` valid events after the current head without the per-event cost of the real append
 * path: canonical text and hashes are computed here, rows go in a chunk per transaction, and the
 * head moves once at the end. The result is indistinguishable from a chain written event by event.
 */
export const fillAuditChain = async (store: Store, n: number, start = new Date('2030-01-01T00:00:00.000Z')): Promise<void> => {
  const [head] = await rawRows<{ seq: string | number; hash: string }>(store.db, sql`SELECT seq, hash FROM audit_head WHERE id = 1`);
  let seq = Number(head!.seq);
  let hash = head!.hash;
  const identities = Array.from({ length: 50 }, () => randomUUID());
  const systems = Array.from({ length: 5 }, () => randomUUID());
  const actor = { id: undefined, channel: 'worker' as const, osUser: 'tenure' };
  for (let done = 0; done < n; done += FILL_CHUNK) {
    const rows: FillRow[] = [];
    for (let i = done; i < Math.min(n, done + FILL_CHUNK); i += 1) {
      seq += 1;
      const at = new Date(start.getTime() + seq * 1000);
      const input = sampleInput(identities[i % identities.length]!, systems[i % systems.length]!);
      const canonical = canonicalEvent(seq, at, actor, input);
      hash = chainHash(hash, canonical);
      rows.push({
        seq, occurred_at: at.toISOString(), action: input.action, actor_id: null, channel: actor.channel,
        subject_type: input.subject.type, subject_id: input.subject.id, identity_id: input.identityId!, system_id: input.systemId!, canonical, hash,
      });
    }
    await insertChunk(store, rows);
  }
  await store.db.execute(sql`UPDATE audit_head SET seq = ${seq}, hash = ${hash} WHERE id = 1`);
};

/** Fills a chain of `events` (untimed, with one signed checkpoint at its head) and times a full verify. */
export const benchAuditVerify = async (store: Store, options: { events: number }): Promise<BenchResult> => {
  await fillAuditChain(store, options.events);
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const key: SigningKey = { privateKey, publicKey, keyId: keyIdOf(publicKey) };
  await writeCheckpoint(store.db, new Date(), key);
  const trusted = trustedKeysFrom([publicKey]);
  const times: number[] = [];
  for (let run = 0; run < RUNS; run += 1) {
    const started = performance.now();
    const result = await verifyChain(store.db, trusted);
    times.push(performance.now() - started);
    if (!result.ok || result.events !== options.events) throw new Error(`bench chain did not verify: ${JSON.stringify(result)}`);
  }
  const medianMs = median(times);
  return {
    name: 'audit verify (events)', backend: store.backend, n: options.events, medianMs,
    perSecond: options.events / (medianMs / 1000), target: store.backend === 'postgres' ? '>= 300,000/s' : '',
  };
};
