import type { FastifyInstance, InjectOptions, LightMyRequestResponse } from 'fastify';
import { loadHttpConfig } from '../../src/config.js';
import { buildApp, type AppDeps, type DecisionHooks } from '../../src/http/app.js';
import { createToken } from '../../src/operations/create-token.js';
import type { TokenScope } from '../../src/domain/tokens.js';
import type { Store } from '../../src/store/database.js';
import { freshStore } from './backends.js';
import { buildWorld, type World } from './world.js';

export interface Service {
  app: FastifyInstance;
  world: World;
  /** A fresh token for `handle` (all scopes unless told), created through the use case as that identity. */
  token(handle: string, scopes?: TokenScope[]): Promise<string>;
  /** Calls the API as `handle` (a cached token with every scope), or anonymously with `as: null`. */
  call(method: InjectOptions['method'], url: string, options?: { as?: string | null; body?: unknown; headers?: Record<string, string> }): Promise<LightMyRequestResponse>;
}

/** The HTTP API over the small test organisation of world.ts, called in process with inject(). */
export const startService = async (
  store: Store, options: { decision?: DecisionHooks; env?: NodeJS.ProcessEnv; logger?: AppDeps['logger']; webhookKey?: AppDeps['webhookKey'] } = {},
): Promise<Service> => {
  const world = await buildWorld(store);
  const app = await buildApp({
    store, clock: world.clock, http: loadHttpConfig(options.env ?? {}), decision: options.decision, logger: options.logger, webhookKey: options.webhookKey,
  });
  const token = async (handle: string, scopes: TokenScope[] = ['read', 'write', 'check']) =>
    (await createToken(await world.as(handle), { name: `test-${handle}`, scopes })).secret;
  const cache = new Map<string, string>();
  const call: Service['call'] = async (method, url, o = {}) => {
    const headers: Record<string, string> = { ...o.headers };
    if (o.as) {
      if (!cache.has(o.as)) cache.set(o.as, await token(o.as));
      headers.authorization = `Bearer ${cache.get(o.as)!}`;
    }
    return app.inject({ method, url, headers, ...(o.body === undefined ? {} : { payload: o.body as InjectOptions['payload'] }) });
  };
  return { app, world, token, call };
};

/** Runs `fn` against a fresh embedded service, closing the app and the store whatever happens. */
export const withService = async (fn: (s: Service) => Promise<void>, options: Parameters<typeof startService>[1] = {}): Promise<void> => {
  const s = await startService(await freshStore('embedded'), options);
  try {
    await fn(s);
  } finally {
    await s.app.close();
    await s.world.store.close();
  }
};
