import type { Context } from '../operations/context.js';
import { runLifecycleTick, type TickResult } from './lifecycle.js';

export interface WorkerHandle { stop(): Promise<void> }

export interface WorkerOptions {
  intervalMs: number;
  onTick?: (result: TickResult) => void;
  onError?: (error: unknown) => void;
  /** Extra periodic duties (audit checkpoints), run after each tick. */
  afterTick?: () => Promise<void>;
}

/**
 * Runs the lifecycle every `intervalMs` until stopped. A failed tick is reported and retried on the
 * next interval: due work stays due in the database, so nothing is lost by a failure or a crash.
 */
export const startWorker = (ctx: Context, options: WorkerOptions): WorkerHandle => {
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> = Promise.resolve();
  const loop = async (): Promise<void> => {
    try {
      const result = await runLifecycleTick(ctx);
      options.onTick?.(result);
      await options.afterTick?.();
    } catch (error) {
      options.onError?.(error);
    }
    if (!stopped) timer = setTimeout(() => { running = loop(); }, options.intervalMs);
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
