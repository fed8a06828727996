import { z } from 'zod';
import type { OidcClient } from '../auth/oidc-client.js';
import { oidcLogins } from '../store/schema-service.js';
import type { Context } from '../work/context.js';
import { parseInput } from './input.js';

/** How long the browser has to come back from the provider. */
export const SIGN_IN_TTL_MS = 10 * 60_000;

const PROBE_ORIGIN = 'https://tenure.invalid';

/**
 * A path of this service only. Absolute URLs, scheme-relative `//host`, backslashes (which browsers
 * read as slashes) and control characters would each let a crafted sign-in link redirect elsewhere.
 */
const isLocalPath = (value: string): boolean =>
  /^\/(?![/\\])/.test(value) && !/[\\\p{Cc}]/u.test(value) && new URL(value, PROBE_ORIGIN).origin === PROBE_ORIGIN;

export const ReturnTo = z.string().max(2000, 'must be at most 2000 characters')
  .refine(isLocalPath, 'must be a path on this service, such as /requests');

export const Input = z.object({ returnTo: ReturnTo.default('/') }).strict();

/**
 * Starts a web sign-in: keeps state, nonce and PKCE verifier server-side (so any server can finish
 * it) and returns the provider URL to send the browser to. Nothing is audited: no access changes yet.
 */
export const startSignIn = async (ctx: Context, client: OidcClient, input: z.input<typeof Input>) => {
  const data = parseInput(Input, input);
  const { url, checks } = await client.begin();
  const now = ctx.clock.now();
  const expiresAt = new Date(now.getTime() + SIGN_IN_TTL_MS);
  // Abandoned sign-ins are deleted by the worker's housekeeping once expired (src/jobs/housekeeping.ts).
  await ctx.store.db.insert(oidcLogins).values({ state: checks.state, nonce: checks.nonce, codeVerifier: checks.codeVerifier,
    returnTo: data.returnTo, expiresAt });
  return { url, state: checks.state, expiresAt };
};
