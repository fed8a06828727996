import type { Context } from '../work/context.js';
import { runLifecycleTick, type TickResult } from './lifecycle.js';

export interface WorkerHandle { stop(): Promise<void> }

/**
 * Runs `tick` now and then every `intervalMs` (measured from the end of one pass to the start of
 * the next, so passes never overlap) until stopped. A failed pass is reported and retried on the
 * next interval: due work stays due in the database, so nothing is lost by a failure or a crash.
 */
export const startLoop = (intervalMs: number, tick: () => Promise<void>, onError: (error: unknown) => void): WorkerHandle => {
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> = Promise.resolve();
  const loop = async (): Promise<void> => {
    try {
      await tick();
    } catch (error) {
      onError(error);
    }
    if (!stopped) timer = setTimeout(() => { running = loop(); }, intervalMs);
  };
  running = loop();
  return {
    stop: async () => {
      stopped = true;
      if (timer) clearTimeout(timer);
      await running;
    },
  };
};

export interface WorkerOptions {
  intervalMs: number;
  onTick?: (result: TickResult) => void;
  onError?: (error: unknown) => void;
  /** Extra periodic duties (audit checkpoints), run after each tick. */
  afterTick?: () => Promise<void>;
}

/** The lifecycle worker: expiries, activations, request expiry and engagement ends on every pass. */
export const startWorker = (ctx: Context, options: WorkerOptions): WorkerHandle =>
  startLoop(options.intervalMs, async () => {
    const result = await runLifecycleTick(ctx);
    options.onTick?.(result);
    await options.afterTick?.();
  }, (error) => options.onError?.(error));
