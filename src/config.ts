import { resolve } from 'node:path';

/** Configuration comes from the environment only; see README "Configuration". */
export interface Config {
  dataDir: string;
  databaseUrl: string | undefined;
  actor: string | undefined;
  workerIntervalMs: number;
  checkpointIntervalMs: number;
}

export const loadConfig = (env: NodeJS.ProcessEnv = process.env): Config => ({
  dataDir: resolve(env.TENURE_DATA_DIR ?? '.tenure'),
  databaseUrl: env.DATABASE_URL || undefined,
  actor: env.TENURE_ACTOR || undefined,
  workerIntervalMs: Number(env.TENURE_WORKER_INTERVAL_MS ?? 5000),
  checkpointIntervalMs: Number(env.TENURE_CHECKPOINT_INTERVAL_MS ?? 15 * 60 * 1000),
});
