export interface WorkerHandle { stop(): Promise<void> }

/** A loop that can also be woken: new work arrived, or its next due moment moved closer. */
export interface LoopHandle extends WorkerHandle { wake(): void }

/** How long until the next pass: a fixed interval, or one computed after each pass (the next due moment). */
export type Delay = number | (() => Promise<number>);

/**
 * Runs `tick` now and then again after `delay` (measured from the end of one pass to the start of
 * the next, so passes never overlap) until stopped; `wake()` brings the next pass forward, never
 * closer than `minGapMs` to the start of the last one, so a burst of wake-ups costs one pass. A
 * failed pass is reported and retried: due work stays due in the database, so nothing is lost by a
 * failure or a crash.
 */
export const startLoop = (delay: Delay, tick: () => Promise<void>, onError: (error: unknown) => void, minGapMs = 0): LoopHandle => {
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let timerAt = Infinity;
  let busy = false;
  let wokenWhileBusy = false;
  let lastStart = 0;
  let running: Promise<void> = Promise.resolve();
  const schedule = (ms: number) => {
    const at = Date.now() + Math.max(0, ms);
    if (timer && at >= timerAt) return;
    clearTimeout(timer);
    timerAt = at;
    timer = setTimeout(() => { timer = undefined; timerAt = Infinity; running = loop(); }, Math.max(0, ms));
  };
  const gapLeft = () => lastStart + minGapMs - Date.now();
  const loop = async (): Promise<void> => {
    busy = true;
    wokenWhileBusy = false;
    lastStart = Date.now();
    let next = typeof delay === 'number' ? delay : 0;
    try {
      await tick();
      if (typeof delay !== 'number') next = await delay();
    } catch (error) {
      onError(error);
      if (typeof delay !== 'number') next = 1000;
    }
    busy = false;
    if (stopped) return;
    schedule(wokenWhileBusy ? Math.min(next, gapLeft()) : next);
  };
  running = loop();
  return {
    wake: () => {
      if (stopped) return;
      if (busy) wokenWhileBusy = true;
      else schedule(gapLeft());
    },
    stop: async () => {
      stopped = true;
      clearTimeout(timer);
      await running;
    },
  };
};
