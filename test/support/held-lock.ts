import { setTimeout as sleep } from 'node:timers/promises';
import type { Store, Tx } from '../../src/store/database.js';

/**
 * Another unit of work caught in the middle: `hold` runs in a transaction of its own, which then
 * stays open with its locks held until `release()`, when `finish` runs and it commits. Resolves
 * once `hold` has run, so whatever the test starts next meets those locks.
 */
export const holdInTransaction = async (store: Store, hold: (tx: Tx) => Promise<void>, finish?: (tx: Tx) => Promise<void>) => {
  let release!: () => void;
  const gate = new Promise<void>((resolve) => { release = resolve; });
  let held!: () => void;
  const holding = new Promise<void>((resolve) => { held = resolve; });
  const done = store.db.transaction(async (tx) => {
    await hold(tx);
    held();
    await gate;
    await finish?.(tx);
  });
  await Promise.race([holding, done]);
  return { release: async () => { release(); await done; } };
};

/** Whether `work` is still unfinished after `ms`: what a lock held elsewhere does to it. */
export const stillWaiting = async (work: Promise<unknown>, ms = 500): Promise<boolean> =>
  (await Promise.race([work.then(() => 'finished', () => 'finished'), sleep(ms).then(() => 'waiting')])) === 'waiting';
