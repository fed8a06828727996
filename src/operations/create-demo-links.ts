import { randomBytes } from 'node:crypto';
import { inArray, isNotNull, lte, or } from 'drizzle-orm';
import { newId } from '../domain/ids.js';
import { demoSignInLinks } from '../store/schema-web.js';
import { identities } from '../store/schema.js';
import type { Context } from '../work/context.js';
import { hashSecret } from './lib/credentials/secrets.js';

/** Short-lived on purpose: a link printed to a terminal is a bearer credential until it is used. */
export const DEMO_LINK_TTL_MS = 15 * 60_000;

/** 256 random bits behind a readable prefix, like tokens (tnr_) and sessions (tns_). */
export const DEMO_SECRET = /^tnd_[A-Za-z0-9_-]{43}$/;

export interface DemoLink { handle: string; url: string; expiresAt: Date }

/**
 * Makes one single-use sign-in link per named persona, for `tenure serve --demo` to print. Only
 * active people get one (a service account signs in with a token, never a browser session);
 * handles that do not exist are skipped, so serving a database that holds something other than the
 * demo still works. The secret is returned once and only its hash is stored. Links that can no
 * longer be used are deleted first, so the table holds only the last start's links.
 *
 * Not an audit event: no access changes until a link is used, and using it records `session.created`
 * (method `demo_link`). Demo links exist only on the embedded database outside production.
 */
export const createDemoLinks = async (ctx: Context, input: { handles: readonly string[]; publicUrl: string; ttlMs?: number }): Promise<DemoLink[]> => {
  const now = ctx.clock.now();
  const expiresAt = new Date(now.getTime() + (input.ttlMs ?? DEMO_LINK_TTL_MS));
  await ctx.store.db.delete(demoSignInLinks).where(or(isNotNull(demoSignInLinks.usedAt), lte(demoSignInLinks.expiresAt, now)));
  const people = await ctx.store.db.select({ id: identities.id, handle: identities.handle, status: identities.status, kind: identities.kind })
    .from(identities).where(inArray(identities.handle, [...input.handles]));
  const links: DemoLink[] = [];
  for (const handle of input.handles) {
    const person = people.find((p) => p.handle === handle);
    if (!person || person.status !== 'active' || person.kind === 'service_account') continue;
    const secret = `tnd_${randomBytes(32).toString('base64url')}`;
    await ctx.store.db.insert(demoSignInLinks).values({ id: newId(), identityId: person.id, secretHash: hashSecret(secret), createdAt: now, expiresAt });
    links.push({ handle, url: `${input.publicUrl}/auth/demo/${secret}`, expiresAt });
  }
  return links;
};
