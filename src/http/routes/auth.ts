import type { FastifyRequest } from 'fastify';
import { z } from 'zod';
import { createOidcClient, reasonOf, type OidcClient } from '../../auth/oidc-client.js';
import { resolveOidcConfig } from '../../auth/oidc-config.js';
import { TenureError } from '../../domain/errors.js';
import type { Context } from '../../work/context.js';
import { endSession } from '../../operations/end-session.js';
import { finishSignIn } from '../../operations/finish-sign-in.js';
import { ReturnTo, SIGN_IN_TTL_MS, startSignIn } from '../../operations/start-sign-in.js';
import { SESSION_COOKIE } from '../../operations/lib/credentials/principal.js';
import { problemSchema } from '../schemas.js';
import { typed, type RouteModule } from './route.js';

/** Holds the state of a sign-in in flight, so only the browser that started it can finish it. */
const SIGN_IN_COOKIE = 'tenure_sign_in';

const redirected = z.void().describe('redirect (Location header)');
const signInProblems = { 400: problemSchema, 403: problemSchema, 404: problemSchema, 503: problemSchema };

/** The provider's answer: code and state, or an error; anything else it adds (iss, session_state) is allowed. */
const CallbackQuery = z.looseObject({
  code: z.string().max(4096).optional(), state: z.string().max(512).optional(),
  error: z.string().max(256).optional(), iss: z.string().max(2048).optional(),
});

const notConfigured = () => new TenureError('auth.oidc_not_configured', 'web sign-in is not configured on this service; use an API token');

/**
 * A person who followed a link in a browser is sent to the console's sign-in page, which says in words
 * what happened and what to do (`/?signin=oidc_not_configured`); a program still gets the problem.
 */
export const wantsPage = (request: FastifyRequest): boolean => (request.headers.accept ?? '').includes('text/html');
export const signInPageFor = (code: string): string => `/?signin=${encodeURIComponent(code.replace(/^auth\./, ''))}`;

/**
 * Web sign-in by OpenID Connect: /auth/login sends the browser to the provider, /auth/callback
 * turns the provider's answer into a session cookie, /auth/logout ends it (see docs/authentication.md).
 * Refusals carry a stable code only; why exactly is logged (a reason token, never a credential).
 */
export const authRoutes: RouteModule = (app, deps) => {
  const config = deps.http.oidc ? resolveOidcConfig(deps.http.oidc) : undefined;
  const client: OidcClient | undefined = config ? createOidcClient(config) : undefined;
  const secure = deps.http.publicUrl.startsWith('https:');
  const callbackPath = new URL(config?.redirectUri ?? `${deps.http.publicUrl}/auth/callback`).pathname;
  const anonymous = (): Context => ({ store: deps.store, clock: deps.clock, actor: { id: undefined, channel: 'web' } });
  const cookie = { httpOnly: true, sameSite: 'lax', secure } as const;
  const signInCookie = { ...cookie, path: callbackPath };
  const r = typed(app);

  r.get('/auth/login', {
    config: { access: { public: true } },
    schema: { tags: ['auth'], summary: 'Sign in: redirects to the OpenID provider',
      querystring: z.object({ returnTo: ReturnTo.optional().describe('a path of this service to land on afterwards') }).strict(),
      response: { 302: redirected, 303: redirected, ...signInProblems } },
  }, async (request, reply) => {
    if (!client && wantsPage(request)) return reply.redirect(signInPageFor('auth.oidc_not_configured'), 303);
    if (!client) throw notConfigured();
    const started = await startSignIn(anonymous(), client, { returnTo: request.query.returnTo });
    reply.header('cache-control', 'no-store')
      .setCookie(SIGN_IN_COOKIE, started.state, { ...signInCookie, maxAge: SIGN_IN_TTL_MS / 1000 });
    return reply.redirect(started.url.href, 302);
  });

  r.get('/auth/callback', {
    config: { access: { public: true } },
    schema: { tags: ['auth'], summary: 'Where the OpenID provider sends the browser back; sets the session cookie',
      querystring: CallbackQuery, response: { 302: redirected, ...signInProblems } },
  }, async (request, reply) => {
    if (!config || !client) throw notConfigured();
    reply.header('cache-control', 'no-store').clearCookie(SIGN_IN_COOKIE, signInCookie);
    const callbackUrl = new URL(config.redirectUri);
    callbackUrl.search = new URL(request.url, 'http://callback.invalid').search;
    const session = await finishSignIn(anonymous(), client, {
      callbackUrl, boundState: request.cookies[SIGN_IN_COOKIE], sessionTtlMs: config.sessionTtlMs,
    }).catch((error: unknown) => { logRefusal(request, error); throw error; });
    reply.setCookie(SESSION_COOKIE, session.secret, { ...cookie, path: '/', maxAge: Math.floor(config.sessionTtlMs / 1000) });
    return reply.redirect(session.returnTo, 302);
  });

  r.get('/auth/methods', {
    config: { access: { public: true } },
    schema: { tags: ['auth'], summary: 'How people sign in here: the console\'s sign-in page asks, to offer only what works',
      response: { 200: z.object({
        oidc: z.boolean().describe('Sign in through the OpenID provider at /auth/login'),
        demo: z.boolean().describe('tenure serve --demo: one-time links printed in its terminal'),
      }), 429: problemSchema } },
  }, async () => ({ oidc: client !== undefined, demo: deps.demo !== undefined }));

  r.post('/auth/logout', {
    config: { access: { public: true } },
    schema: { tags: ['auth'], summary: 'Sign out: ends the session and clears its cookie',
      response: { 204: z.void().describe('signed out (also when there was no live session)'), 429: problemSchema } },
  }, async (request, reply) => {
    await endSession(anonymous(), { secret: request.cookies[SESSION_COOKIE] });
    return reply.clearCookie(SESSION_COOKIE, { ...cookie, path: '/' }).code(204).send();
  });
};

/** Sign-in refusals are not audit events (no access changed); they are logged with their reason token. */
const logRefusal = (request: FastifyRequest, error: unknown): void => {
  const reason = reasonOf(error);
  if (reason) request.log.warn({ reason, code: (error as TenureError).code }, 'sign-in refused');
};
