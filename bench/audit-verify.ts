import crypto, { generateKeyPairSync } from 'node:crypto';
import { sql } from 'drizzle-orm';
import { writeCheckpoint } from '../src/audit/checkpoint.js';
import { fillAuditChain, tempAnchor } from '../test/support/audit-fixture.js';
import { keyIdOf, trustedKeysFrom, type SigningKey } from '../src/audit/signing-key.js';
import { verifyChain } from '../src/audit/verify.js';
import { rawRows, type Store } from '../src/store/database.js';
import { median, type BenchResult } from './report.js';

const RUNS = 3;

const freshKey = (): SigningKey => {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  return { privateKey, publicKey, keyId: keyIdOf(publicKey) };
};

const FLOOR_PAGE = 20_000;

/**
 * The floor, measured in the same run: SHA-256 of each event's bytes as the chain hashes them (the
 * previous hash's 32 bytes, then the canonical text), in one thread, with the bytes already in
 * memory. Read page by page untimed; each page hashed RUNS times, its median counted.
 */
const sha256FloorMs = async (store: Store): Promise<{ ms: number; events: number }> => {
  let ms = 0;
  let events = 0;
  for (let after = 0; ;) {
    const rows = await rawRows<{ seq: string | number; hash: string; canonical: string }>(store.db, sql`
      SELECT seq, hash, canonical FROM audit_events WHERE seq > ${after} ORDER BY seq LIMIT ${FLOOR_PAGE}`);
    if (rows.length === 0) return { ms, events };
    let previous = after === 0 ? '0'.repeat(64) : (await rawRows<{ hash: string }>(store.db, sql`SELECT hash FROM audit_events WHERE seq = ${after}`))[0]!.hash;
    const inputs = rows.map((row) => {
      const bytes = Buffer.concat([Buffer.from(previous, 'hex'), Buffer.from(row.canonical, 'utf8')]);
      previous = row.hash;
      return bytes;
    });
    const times: number[] = [];
    for (let run = 0; run < RUNS; run += 1) {
      const started = performance.now();
      for (const bytes of inputs) crypto.hash('sha256', bytes, 'hex');
      times.push(performance.now() - started);
    }
    if (crypto.hash('sha256', inputs.at(-1)!, 'hex') !== rows.at(-1)!.hash) throw new Error('the floor hashed other bytes than the chain');
    ms += median(times);
    events += rows.length;
    after = Number(rows.at(-1)!.seq);
  }
};

/** Fills a chain of `events` (untimed, with one signed checkpoint at its head) and times a full verify. */
export const benchAuditVerify = async (store: Store, options: { events: number }): Promise<BenchResult> => {
  await fillAuditChain(store, options.events);
  const key = freshKey();
  const anchor = tempAnchor();
  await writeCheckpoint(store.db, new Date(), key, anchor);
  const trusted = trustedKeysFrom([key.publicKey]);
  const times: number[] = [];
  for (let run = 0; run < RUNS; run += 1) {
    const started = performance.now();
    const result = await verifyChain(store.db, { trusted, anchor, now: new Date(), unsignedGraceMs: 30_000 });
    times.push(performance.now() - started);
    if (!result.ok || result.events !== options.events) throw new Error(`bench chain did not verify: ${JSON.stringify(result)}`);
  }
  const medianMs = median(times);
  const perSecond = options.events / (medianMs / 1000);
  const floor = await sha256FloorMs(store);
  const floorPerSecond = floor.events / (floor.ms / 1000);
  return {
    name: `audit verify (events; floor: SHA-256 alone ${Math.round(floorPerSecond).toLocaleString('en')}/s, ${(perSecond / floorPerSecond).toFixed(2)} of it)`,
    backend: store.backend, n: options.events, medianMs, perSecond, target: store.backend === 'postgres' ? '>= 500,000/s' : '',
  };
};

/**
 * What one checkpoint costs once `since` events were appended after the previous one (untimed):
 * re-verifying them, signing, the fsync'd append to the anchor file and the row. The worker signs
 * every 5 s, so a median of m ms is m/5000 of one core at that rate of events.
 */
export const benchCheckpoint = async (store: Store, options: { since: number[] }): Promise<BenchResult[]> => {
  const key = freshKey();
  const anchor = tempAnchor();
  await fillAuditChain(store, 1_000);
  await writeCheckpoint(store.db, new Date(), key, anchor);
  const results: BenchResult[] = [];
  for (const since of options.since) {
    const times: number[] = [];
    for (let run = 0; run < RUNS; run += 1) {
      await fillAuditChain(store, since);
      const started = performance.now();
      const outcome = await writeCheckpoint(store.db, new Date(), key, anchor);
      times.push(performance.now() - started);
      if (!outcome.written) throw new Error('bench checkpoint was not written');
    }
    const medianMs = median(times);
    results.push({
      name: `audit checkpoint after ${since.toLocaleString('en')} event${since === 1 ? '' : 's'} (ms)`, backend: store.backend, n: since, medianMs,
      perSecond: since / (medianMs / 1000), target: since <= 1_000 ? '< 50 ms (1% of a core at 5 s)' : '',
    });
  }
  return results;
};
