import { and, eq, gt, isNull } from 'drizzle-orm';
import { TenureError } from '../domain/errors.js';
import { lockIdentity } from '../store/queries/identities.js';
import { demoSignInLinks } from '../store/schema-web.js';
import { inTransaction, type Context } from '../work/context.js';
import { DEMO_SECRET } from './create-demo-links.js';
import { openWebSession } from './lib/web-session.js';
import { hashSecret } from './lib/credentials/secrets.js';

/** One answer for unknown, used and expired links: which it was is nobody's business but the log's. */
const invalid = () => new TenureError('auth.demo_link_invalid', 'this sign-in link is unknown, expired or already used; restart tenure serve --demo for new links');

/**
 * Signs in with a demo link: marks it used and opens a web session as its persona, in one
 * transaction. The link is claimed by a conditional update (unused and unexpired), so two browsers
 * opening the same link at once get one session between them. Any refusal rolls everything back:
 * no session, no audit event, and a link refused because its persona is no longer active stays unused.
 */
export const redeemDemoLink = async (ctx: Context, input: { secret: string; sessionTtlMs: number }) => {
  if (!DEMO_SECRET.test(input.secret)) throw invalid();
  const secretHash = hashSecret(input.secret);
  const [link] = await ctx.store.db.select({ identityId: demoSignInLinks.identityId }).from(demoSignInLinks)
    .where(eq(demoSignInLinks.secretHash, secretHash));
  if (!link) throw invalid();
  return inTransaction({ ...ctx, actor: { id: link.identityId, channel: 'web' } }, async (work) => {
    const [claimed] = await work.tx.update(demoSignInLinks).set({ usedAt: work.now })
      .where(and(eq(demoSignInLinks.secretHash, secretHash), isNull(demoSignInLinks.usedAt), gt(demoSignInLinks.expiresAt, work.now)))
      .returning({ id: demoSignInLinks.id });
    if (!claimed) throw invalid();
    const person = await lockIdentity(work.tx, link.identityId);
    if (person.status !== 'active' || person.kind === 'service_account') {
      throw new TenureError('auth.sign_in_refused', 'this persona cannot sign in to the console');
    }
    return openWebSession(work, person.id, input.sessionTtlMs, 'demo_link', { link: claimed.id });
  });
};
