/**
 * The loop that carries out ends: it sleeps until the next grant or engagement is due (at most the
 * worker interval), ends what is due, and removes it from the targets in the same pass, so access is
 * gone about as soon as its end comes rather than after two fixed polls in series. On a PostgreSQL
 * server it is also woken by the change feed: another process's revocation or a new short grant.
 */
import { sessionDatabaseUrl } from '../config.js';
import { listenForChanges, type ChangeFeed } from '../decision/change-feed.js';
import { delayUntilDue, runLifecycleTick, type TickResult } from '../jobs/lifecycle.js';
import { runProvisioningPass, type ProvisioningPassResult } from '../jobs/provisioning/index.js';
import { startLoop, type LoopHandle } from '../jobs/worker.js';
import type { Context } from '../work/context.js';
import type { Runtime } from './runtime.js';

/** Wake-ups closer together than this make one pass: a burst of commits elsewhere costs one. */
const MIN_GAP_MS = 100;

export interface DueLoopHooks {
  onPass(lifecycle: TickResult, provisioning: ProvisioningPassResult): void;
  onError(error: unknown): void;
  afterPass?: () => Promise<void>;
}

export interface DueLoop { stop(): Promise<void> }

export const startDueLoop = async (rt: Runtime, ctx: Context, hooks: DueLoopHooks): Promise<DueLoop> => {
  const loop: LoopHandle = startLoop(() => delayUntilDue(ctx, rt.config.workerIntervalMs), async () => {
    const lifecycle = await runLifecycleTick(ctx);
    const provisioning = await runProvisioningPass(ctx, { leaseMs: rt.config.provisioningLeaseMs });
    hooks.onPass(lifecycle, provisioning);
    await hooks.afterPass?.();
  }, hooks.onError, MIN_GAP_MS);
  let feed: ChangeFeed | undefined;
  const listenUrl = sessionDatabaseUrl(rt.config);
  if (listenUrl) {
    feed = await listenForChanges({ url: listenUrl, connection: rt.connectionSettings, onChange: () => loop.wake(),
      onError: (error) => hooks.onError(error) });
  }
  return {
    stop: async () => {
      await feed?.stop();
      await loop.stop();
    },
  };
};
