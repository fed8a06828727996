import { z } from 'zod';
import { TenureError } from '../../domain/errors.js';
import { redeemDemoLink } from '../../operations/redeem-demo-link.js';
import { SESSION_COOKIE } from '../../operations/lib/credentials/principal.js';
import { clean } from '../../operations/input.js';
import { signInPageFor, wantsPage } from './auth.js';
import { problemSchema } from '../schemas.js';
import { typed, type RouteModule } from './route.js';

/**
 * The one-time sign-in links `tenure serve --demo` prints (see src/cli/demo-sign-in.ts). The route is
 * always registered, so every server answers it the same way, but only a server started with --demo
 * honours a link: anywhere else it answers auth.demo_links_off, whatever the link, and people sign
 * in through OIDC only. A GET because the link is opened from a terminal; the secret in the path is
 * kept out of the logs (see app.ts) and out of Referer headers (helmet's Referrer-Policy: no-referrer).
 */
export const demoRoutes: RouteModule = (app, deps) => {
  const secure = deps.http.publicUrl.startsWith('https:');
  typed(app).get('/auth/demo/:secret', {
    config: { access: { public: true } },
    schema: { tags: ['auth'], summary: 'Demo only (tenure serve --demo): signs in with a one-time link and redirects to the console',
      params: z.object({ secret: clean(z.string().max(200)) }),
      response: { 302: z.void().describe('redirect (Location header)'), 303: z.void().describe('a browser is sent to the sign-in page, which explains a refused link'),
        400: problemSchema, 403: problemSchema, 404: problemSchema } },
  }, async (request, reply) => {
    reply.header('cache-control', 'no-store');
    try {
      if (!deps.demo) throw new TenureError('auth.demo_links_off', 'demo sign-in links work only on a server started with tenure serve --demo; sign in at /auth/login');
      const session = await redeemDemoLink({ store: deps.store, clock: deps.clock, actor: { id: undefined, channel: 'web' } },
        { secret: request.params.secret, sessionTtlMs: deps.demo.sessionTtlMs });
      reply.setCookie(SESSION_COOKIE, session.secret, { httpOnly: true, sameSite: 'lax', secure, path: '/', maxAge: Math.floor(deps.demo.sessionTtlMs / 1000) });
      return reply.redirect('/', 302);
    } catch (error) {
      // A person who opened a used or expired link reads what to do on the sign-in page, not a problem document.
      if (error instanceof TenureError && error.code.startsWith('auth.') && wantsPage(request)) return reply.redirect(signInPageFor(error.code), 303);
      throw error;
    }
  });
};
