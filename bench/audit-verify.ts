import { generateKeyPairSync } from 'node:crypto';
import { writeCheckpoint } from '../src/audit/checkpoint.js';
import { fillAuditChain, tempAnchor } from '../test/support/audit-fixture.js';
import { keyIdOf, trustedKeysFrom, type SigningKey } from '../src/audit/signing-key.js';
import { verifyChain } from '../src/audit/verify.js';
import type { Store } from '../src/store/database.js';
import { median, type BenchResult } from './report.js';

const RUNS = 3;

/** Fills a chain of `events` (untimed, with one signed checkpoint at its head) and times a full verify. */
export const benchAuditVerify = async (store: Store, options: { events: number }): Promise<BenchResult> => {
  await fillAuditChain(store, options.events);
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const key: SigningKey = { privateKey, publicKey, keyId: keyIdOf(publicKey) };
  const anchor = tempAnchor();
  await writeCheckpoint(store.db, new Date(), key, anchor);
  const trusted = trustedKeysFrom([publicKey]);
  const times: number[] = [];
  for (let run = 0; run < RUNS; run += 1) {
    const started = performance.now();
    const result = await verifyChain(store.db, { trusted, anchor, now: new Date(), unsignedGraceMs: 30_000 });
    times.push(performance.now() - started);
    if (!result.ok || result.events !== options.events) throw new Error(`bench chain did not verify: ${JSON.stringify(result)}`);
  }
  const medianMs = median(times);
  return {
    name: 'audit verify (events)', backend: store.backend, n: options.events, medianMs,
    perSecond: options.events / (medianMs / 1000), target: store.backend === 'postgres' ? '>= 300,000/s' : '',
  };
};
