import { randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql, TransactionRollbackError } from 'drizzle-orm';
import { canonicalEvent, chainHash } from '../../src/audit/chain.js';
import { anchorFrom, type AnchorConfig } from '../../src/audit/anchor.js';
import { writeCheckpoint } from '../../src/audit/checkpoint.js';
import type { VerifyOptions } from '../../src/audit/verify.js';
import type { AuditEventType, AuditInput } from '../../src/audit/event-types.js';
import { loadSigningKey, trustedKeysFrom, type SigningKey, type TrustedKeys } from '../../src/audit/signing-key.js';
import { ManualClock } from '../../src/domain/clock.js';
import { inTransaction, type Context } from '../../src/work/context.js';
import { rawRows, type Executor, type Store, type Tx } from '../../src/store/database.js';

export const HOUR = 3_600_000;
export const START = '2030-01-01T09:00:00.000Z';
const ACTIONS: AuditEventType[] = ['request.created', 'grant.created', 'grant.expired', 'identity.status_changed'];

/** The fixture chain: 6 transactions of 5 events, one hour apart, signed at seq 20 and at seq 30. */
export interface AuditFixture {
  store: Store;
  ctx: Context;
  clock: ManualClock;
  key: SigningKey;
  trusted: TrustedKeys;
  /** The anchor file outside the database, in a directory of its own. */
  anchor: AnchorConfig;
  alice: string;
  bob: string;
  sysA: string;
  sysB: string;
  /** What the generator put at each seq, to state expectations without re-reading the database. */
  planned: Map<number, { identityId: string; systemId: string; action: AuditEventType; at: Date }>;
}

export const tempDir = (label: string): string => mkdtempSync(join(tmpdir(), `tenure-${label}-`));

/** An anchor in a fresh temporary directory, as the data directory would hold it. */
export const tempAnchor = (): AnchorConfig => anchorFrom({ env: {}, dataDir: tempDir('audit-anchor') });

/** What `tenure audit verify` checks with, for the fixture's key, anchor and clock. */
export const verifyOptions = (f: Pick<AuditFixture, 'trusted' | 'anchor' | 'clock'>, extra: Partial<VerifyOptions> = {}): VerifyOptions =>
  ({ trusted: f.trusted, anchor: f.anchor, now: f.clock.now(), unsignedGraceMs: 30_000, ...extra });

export const recordEvents = (ctx: Context, inputs: AuditInput[]): Promise<void> =>
  inTransaction(ctx, async (work) => { for (const input of inputs) work.record(input); });

export const buildAuditFixture = async (store: Store): Promise<AuditFixture> => {
  const clock = new ManualClock(START);
  const ctx: Context = { store, clock, actor: { id: undefined, channel: 'system' } };
  const key = loadSigningKey({ env: {}, dataDir: tempDir('audit-key'), create: true })!;
  const anchor = tempAnchor();
  const [alice, bob, sysA, sysB] = [randomUUID(), randomUUID(), randomUUID(), randomUUID()];
  const planned: AuditFixture['planned'] = new Map();
  for (let tx = 0; tx < 6; tx += 1) {
    const inputs: AuditInput[] = [];
    for (let i = 1; i <= 5; i += 1) {
      const seq = tx * 5 + i;
      const event = { identityId: seq % 2 ? alice : bob, systemId: seq % 3 === 0 ? sysB : sysA, action: ACTIONS[seq % 4]!, at: clock.now() };
      planned.set(seq, event);
      inputs.push({ action: event.action, subject: { type: 'grant', id: `g-${seq}` }, identityId: event.identityId, systemId: event.systemId,
        before: { status: 'active' }, after: { status: 'ended', nested: { seq: 999 } }, reason: null });
    }
    await recordEvents(ctx, inputs);
    if (tx === 3 || tx === 5) await writeCheckpoint(store.db, clock.now(), key, anchor);
    clock.advance(HOUR);
  }
  return { store, ctx, clock, key, trusted: trustedKeysFrom([key.publicKey]), anchor, alice, bob, sysA, sysB, planned };
};

export interface EventRow { seq: number; canonical: string; hash: string }

export const eventRows = async (exec: Executor, fromSeq = 1): Promise<EventRow[]> =>
  (await rawRows<EventRow>(exec, sql`SELECT seq, canonical, hash FROM audit_events WHERE seq >= ${fromSeq} ORDER BY seq`))
    .map((r) => ({ ...r, seq: Number(r.seq) }));

export const hashAt = async (exec: Executor, seq: number): Promise<string> =>
  (await rawRows<{ hash: string }>(exec, sql`SELECT hash FROM audit_events WHERE seq = ${seq}`))[0]!.hash;

/** A forged event with a hash that is valid for its place, as a careful forger would write it. */
export const forgedEvent = (seq: number, previousHash: string, reason: string) => {
  const canonical = canonicalEvent(seq, new Date(START), { id: undefined, channel: 'system' },
    { action: 'grant.created', subject: { type: 'grant', id: 'forged' }, reason });
  return { canonical, hash: chainHash(previousHash, canonical) };
};

export const insertEvent = (tx: Tx, seq: number, event: { canonical: string; hash: string }) => tx.execute(sql`
  INSERT INTO audit_events (seq, occurred_at, action, channel, subject_type, subject_id, canonical, hash)
  VALUES (${seq}, ${START}, 'grant.created', 'system', 'grant', 'forged', ${event.canonical}, ${event.hash})`);

export const setHead = (tx: Tx, seq: number, hash: string) => tx.execute(sql`UPDATE audit_head SET seq = ${seq}, hash = ${hash} WHERE id = 1`);

/**
 * What an attacker with SQL but without the signing key can do: change event `seq` (its reason by default) and
 * re-hash every event from there to the end, head included, so each stored hash is consistent.
 */
export const rewriteAndRehash = async (tx: Tx, seq: number, edit = (c: string) => c.replace('"reason":null', '"reason":"rewritten"')): Promise<void> => {
  let previous = await hashAt(tx, seq - 1);
  let last = seq - 1;
  for (const row of await eventRows(tx, seq)) {
    const canonical = row.seq === seq ? edit(row.canonical) : row.canonical;
    if (row.seq === seq && canonical === row.canonical) throw new Error(`the edit left event ${seq} as it was`);
    previous = chainHash(previous, canonical);
    last = Number(row.seq);
    await tx.execute(sql`UPDATE audit_events SET canonical = ${canonical}, hash = ${previous} WHERE seq = ${row.seq}`);
  }
  await setHead(tx, last, previous);
};

/**
 * Runs `tamper` as a DBA would (replication role: the append-only triggers do not fire), then
 * `inspect` in the same transaction, and rolls everything back so the next test gets the fixture.
 */
export const asDba = async <T>(store: Store, tamper: (tx: Tx) => Promise<unknown>, inspect: (tx: Tx) => Promise<T>): Promise<T> => {
  let result: T | undefined;
  try {
    await store.db.transaction(async (tx) => {
      await tx.execute(sql`SET LOCAL session_replication_role = replica`);
      await tamper(tx);
      await tx.execute(sql`SET LOCAL session_replication_role = origin`);
      result = await inspect(tx);
      tx.rollback();
    });
  } catch (error) {
    if (!(error instanceof TransactionRollbackError)) throw error;
  }
  return result as T;
};

/** Rows per insert statement: one JSON parameter, so there is no bind-parameter limit to respect. */
const FILL_CHUNK = 5_000;

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
