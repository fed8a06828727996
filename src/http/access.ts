import type { FastifyInstance, FastifyRequest, RouteOptions } from 'fastify';
import type { Context } from '../work/context.js';
import { loadActor, requirePermission } from '../operations/authorize.js';
import type { Clock } from '../domain/clock.js';
import { TenureError } from '../domain/errors.js';
import type { Permission } from '../domain/permissions.js';
import type { TokenScope } from '../domain/tokens.js';
import type { Store } from '../store/database.js';
import type { CredentialCache } from './credential-cache.js';
import { idempotencyCommitMark } from './idempotency.js';
import { authenticate, SESSION_COOKIE, type Principal } from '../operations/lib/credentials/principal.js';
import type { SpendWrite } from './write-budget.js';

/**
 * What a route requires, declared on every route (deny by default: a route without it is refused at
 * start-up). `public` routes answer anyone; the others need a principal whose token carries `scope`
 * and who holds `permission` — or, for `self`, any active identity, with the use case applying
 * ownership and routing rules (request for yourself, approve what routing gives you, see your own).
 */
export type RouteAccess = { public: true } | {
  scope: TokenScope;
  permission: Permission | 'self';
  /** Hot read-only routes (the decision point) may trust a remembered bearer token; see credential-cache.ts. */
  rememberCaller?: true;
};

declare module 'fastify' {
  interface FastifyContextConfig { access?: RouteAccess }
  interface FastifyRequest { principal: Principal | undefined }
}

export class UndeclaredAccessError extends Error {}

/** A route as registered, with what it requires: the authorisation matrix test walks this list. */
export interface CataloguedRoute { method: string; url: string; access: RouteAccess }

/**
 * Refuses to register any route that does not say who may call it (the API documentation pages
 * under /docs are the one exception: static, public, and registered by the Swagger UI plugin).
 */
export const requireDeclaredAccess = (app: FastifyInstance): CataloguedRoute[] => {
  const catalogue: CataloguedRoute[] = [];
  app.addHook('onRoute', (route: RouteOptions) => {
    if (route.url.startsWith('/docs')) return;
    const access = (route.config as { access?: RouteAccess } | undefined)?.access;
    if (!access) throw new UndeclaredAccessError(`route ${route.method.toString()} ${route.url} declares no access`);
    for (const method of [route.method].flat()) if (method !== 'HEAD') catalogue.push({ method, url: route.url, access });
  });
  return catalogue;
};

export const routeAccess = (request: FastifyRequest): RouteAccess | undefined =>
  (request.routeOptions.config as { access?: RouteAccess }).access;

export interface AuthorizeOptions {
  publicOrigin: string;
  cache?: CredentialCache | undefined;
  /** Spends the write budget (write-budget.ts): once the caller is known and before any refusal, so refusals count. */
  spend?: SpendWrite | undefined;
}

/**
 * Authenticates and authorises before the body is even parsed: a caller who may not use a route
 * learns nothing from it and costs no more than a lookup. Roles are read from the database on every
 * request. A write spends its budget between the two, so a refused write counts like any other.
 */
export const authorizeRequests = (app: FastifyInstance, store: Store, clock: Clock, options: AuthorizeOptions): void => {
  app.decorateRequest('principal', undefined);
  const spend: SpendWrite = options.spend ?? (async () => {});
  app.addHook('onRequest', async (request, reply) => {
    const access = routeAccess(request);
    if (!access) return;
    if ('public' in access) return spend(request, reply, undefined);
    const now = clock.now();
    const bearer = request.headers.authorization;
    const cache = access.rememberCaller && bearer !== undefined ? options.cache : undefined;
    const remembered = cache?.get(bearer!, now);
    let principal: Principal;
    try {
      principal = remembered?.principal ?? await authenticate(store, now, bearer, request.cookies[SESSION_COOKIE]);
    } catch (error) {
      // A bad or missing credential spends the client address's budget: guessing tokens is limited too.
      await spend(request, reply, undefined);
      throw error;
    }
    await spend(request, reply, principal);
    if (!principal.scopes.includes(access.scope)) {
      throw new TenureError('auth.scope_missing', `this route needs a token with the '${access.scope}' scope`);
    }
    request.principal = principal;
    // A browser session writes only from Tenure's own pages: a write whose Origin is another site
    // is refused even though SameSite=Lax already keeps the cookie off cross-site POSTs.
    const origin = request.headers.origin;
    if (principal.channel === 'web' && request.method !== 'GET' && origin !== undefined && origin !== options.publicOrigin) {
      throw new TenureError('auth.cross_site_refused', `writes with a session must come from ${options.publicOrigin}`);
    }
    if (access.permission === 'self') return;
    const acting = remembered?.acting ?? await loadActor(store.db, principal.identityId);
    requirePermission(acting, access.permission);
    if (cache && !remembered) cache.put(bearer!, { principal, acting, expiresAt: principal.expiresAt }, now);
  });
};

/**
 * The use-case context of an authenticated request: the actor is the token's or session's owner,
 * with the token's issuer when that is someone else, so the audit event and every same-party rule
 * see who minted the credential as well as whose it is.
 */
export const contextOf = (request: FastifyRequest, store: Store, clock: Clock): Context => {
  const principal = request.principal;
  if (!principal) throw new TenureError('auth.required', 'sign in, or send Authorization: Bearer <token>');
  const markCommit = idempotencyCommitMark(request);
  return {
    store, clock, ...(markCommit ? { markCommit } : {}),
    actor: {
      id: principal.identityId, channel: principal.channel,
      ...(principal.tokenId ? { tokenId: principal.tokenId } : {}),
      ...(principal.issuedBy ? { issuedBy: principal.issuedBy } : {}),
      ...(principal.mfa ? { mfa: principal.mfa } : {}),
      ...(principal.mfaAt ? { mfaAt: principal.mfaAt } : {}),
    },
  };
};
