import cookie from '@fastify/cookie';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import Fastify, { LogController, type FastifyInstance, type FastifyServerOptions } from 'fastify';
import { jsonSchemaTransform, serializerCompiler } from 'fastify-type-provider-zod';
import type { HttpConfig } from '../config.js';
import type { KeySource } from '../audit/signing-key.js';
import type { CheckAnswer, CheckRequest } from '../decision/service.js';
import type { Clock } from '../domain/clock.js';
import type { Store } from '../store/database.js';
import type { PassOptions } from '../jobs/pass.js';
import type { WebhookKeyRing } from '../webhooks/crypto.js';
import { observeHttpRequest } from '../metrics/process.js';
import { authorizeRequests, requireDeclaredAccess, type CataloguedRoute } from './access.js';
import { CredentialCache } from './credential-cache.js';
import { supportIdempotencyKeys } from './idempotency.js';
import { frameworkErrors, installProblemHandler } from './problem.js';
import { validatorCompiler } from './validation.js';
import { ROUTES } from './routes/index.js';
import { addSecurityHeaders } from './security-headers.js';
import { registerWebConsole } from './web.js';
import { logRequests, loggedPath, requestId } from './request-log.js';
import { isWrite, writeBudget } from './write-budget.js';

declare module 'fastify' {
  interface FastifyInstance { routeCatalogue: CataloguedRoute[] }
}

/** What the decision point offers the rest of the service (see src/decision). */
export interface DecisionHooks {
  /** Reads the change feed now: called after every write so this process never answers from stale data. */
  sync(): Promise<void>;
  /** False when the index could not be refreshed recently: /readyz fails and privileged checks are denied. */
  ready(): boolean;
  /** Moves on with every credential change the feed shows; undefined while stale (see CredentialCache). */
  credentialEpoch(): number | undefined;
  /** Answers POST /v1/check from the index, synchronously. */
  check(request: CheckRequest): CheckAnswer;
}

export interface AppDeps {
  store: Store;
  /** Where audit keys come from (environment, data directory); without it, verify and checkpoint are refused. */
  auditKeys?: { source: KeySource; createSigningKey: boolean } | undefined;
  clock: Clock;
  http: HttpConfig;
  decision?: DecisionHooks | undefined;
  /** The webhook key ring (secrets and URLs at rest); read per call, so a key created after start-up is seen. */
  webhookKey?: (() => WebhookKeyRing | undefined) | undefined;
  /** Settings of a pass run by POST /v1/lifecycle/run, read per call; without it, defaults and the webhook key above. */
  pass?: (() => PassOptions) | undefined;
  logger?: FastifyServerOptions['logger'];
  /** Set only by `tenure serve --demo`: one-time demo sign-in links are honoured, with sessions this long. */
  demo?: { sessionTtlMs: number } | undefined;
  /** The built web console (default web/dist); served at / when it exists. */
  webRoot?: string | undefined;
}

/**
 * Error lines from fastify carry method and path; never headers, query strings or bodies (tokens,
 * OIDC codes), nor the secret of a demo sign-in link, which travels in the path.
 */
const logSerializers = {
  req: (req: { method: string; url: string }) => ({ method: req.method, path: loggedPath(req.url) }),
};

/**
 * Content Security Policy for the API documentation and the web console. Scripts come only from
 * this origin, never inline (Vite builds the console into files under /assets). Styles allow
 * 'unsafe-inline' because Mantine writes its theme as CSS variables into a <style> element at run
 * time and sets style attributes on components (and the Swagger UI at /docs uses inline styles too);
 * a nonce would need index.html rewritten per request and wired into Mantine. That is the narrowest
 * policy the console works with, and inline CSS cannot run script. On a plain-http public URL (the
 * local demo) helmet's upgrade-insecure-requests is dropped: it would send the browser to https
 * addresses of the console's own files, where nothing listens. 'wasm-unsafe-eval' lets the session player
 * (asciinema-player, bundled under /assets) compile its WebAssembly terminal from bytes in its own script;
 * it allows WebAssembly only, never eval() or new Function() of JavaScript.
 */
const contentSecurityPolicy = (publicUrl: string) => ({
  directives: {
    'script-src': ["'self'", "'wasm-unsafe-eval'"],
    'style-src': ["'self'", "'unsafe-inline'"],
    'connect-src': ["'self'"],
    ...(publicUrl.startsWith('https:') ? {} : { 'upgrade-insecure-requests': null }),
  },
});

export const buildApp = async (deps: AppDeps): Promise<FastifyInstance> => {
  const app = Fastify({
    logger: deps.logger === undefined ? false : deps.logger,
    bodyLimit: deps.http.bodyLimitBytes,
    // Longer than any id or key a route accepts, so an over-long one meets its schema and is refused by field.
    routerOptions: { maxParamLength: 1000 },
    frameworkErrors,
    ...(deps.logger ? { logger: { ...(typeof deps.logger === 'object' ? deps.logger : {}), serializers: logSerializers } } : {}),
    // One line per request, written by logRequests, instead of fastify's two.
    logController: new LogController({ disableRequestLogging: true }),
    genReqId: requestId,
    requestIdHeader: false,
    // Only the named balancers' X-Forwarded-For/-Proto are believed; without any, request.ip is the TCP peer.
    ...(deps.http.trustProxy.length > 0 ? { trustProxy: deps.http.trustProxy } : {}),
  });
  if (deps.logger) logRequests(app);
  // JSON only: a cross-site HTML form can send text/plain or form bodies without a preflight, so those are refused outright.
  app.removeContentTypeParser(['text/plain']);
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  installProblemHandler(app);
  // By route template, never the raw URL: ids in paths would make a series per request.
  app.addHook('onResponse', async (request, reply) => {
    observeHttpRequest(request.method, request.routeOptions.url, reply.statusCode, reply.elapsedTime / 1000);
  });
  const catalogue = requireDeclaredAccess(app);
  app.decorate('routeCatalogue', catalogue);
  await app.register(cookie);
  addSecurityHeaders(app, { contentSecurityPolicy: contentSecurityPolicy(deps.http.publicUrl) });
  await app.register(swagger, {
    openapi: {
      info: { title: 'Tenure API', version: '1', description: 'Access governance: every grant has an owner, a purpose and an end.' },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
      security: [{ bearer: [] }],
    },
    transform: jsonSchemaTransform,
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });
  const decision = deps.decision;
  const cache = decision ? new CredentialCache(() => decision.credentialEpoch()) : undefined;
  authorizeRequests(app, deps.store, deps.clock, {
    publicOrigin: new URL(deps.http.publicUrl).origin, cache, spend: writeBudget(deps.store, deps.clock, deps.http.writesPerMinute),
  });
  supportIdempotencyKeys(app, deps.store, deps.clock);
  if (decision) {
    // A successful write is followed by a read of the change feed before its answer leaves, so the
    // next check this process answers already sees a revocation or termination it just made.
    app.addHook('onSend', async (request, reply, payload) => {
      if (isWrite(request.method) && reply.statusCode < 400 && request.routeOptions.url !== '/v1/check') await decision.sync();
      return payload;
    });
  }
  for (const register of ROUTES) await register(app, deps);
  // Last, and a wildcard: every API route above is matched before the console's fallback.
  await registerWebConsole(app, deps.webRoot);
  return app;
};
