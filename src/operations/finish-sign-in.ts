import { createHash, timingSafeEqual } from 'node:crypto';
import { and, eq, sql } from 'drizzle-orm';
import { signInFailure, type OidcClient, type ProviderAccount } from '../auth/oidc-client.js';
import type { Executor } from '../store/database.js';
import { lockIdentity } from '../store/queries/identities.js';
import { externalSubjects, oidcLogins } from '../store/schema-service.js';
import { identities } from '../store/schema.js';
import { inTransaction, type Context } from '../work/context.js';
import { openWebSession } from './lib/web-session.js';
import { mfaPerformedAt } from '../domain/sign-in-mfa.js';

export interface FinishSignInInput {
  /** The redirect URI with the query the provider sent back (code, state, iss or error). */
  callbackUrl: URL;
  /** The state the browser that started the sign-in holds in its sign-in cookie. */
  boundState: string | undefined;
  sessionTtlMs: number;
}

interface Match { identityId: string; matchedBy: 'subject' | 'email' }

const invalid = (reason: string) => signInFailure('auth.sign_in_invalid', reason);
const refused = (reason: string) => signInFailure('auth.sign_in_refused', reason);

const sameText = (a: string, b: string): boolean =>
  timingSafeEqual(createHash('sha256').update(a).digest(), createHash('sha256').update(b).digest());

/** Deletes the sign-in in flight and returns it: whatever happens next, its state cannot be used twice. */
const consumeLogin = async (ctx: Context, state: string) => {
  const [login] = await ctx.store.db.delete(oidcLogins).where(eq(oidcLogins.state, state)).returning();
  if (!login) throw invalid('unknown_or_used_state');
  if (login.expiresAt <= ctx.clock.now()) throw invalid('expired_state');
  return login;
};

/** A subject met before signs in as the identity it was bound to, whatever its email says today. */
const boundIdentity = async (db: Executor, account: ProviderAccount): Promise<string | undefined> => {
  const [bound] = await db.select({ identityId: externalSubjects.identityId }).from(externalSubjects)
    .where(and(eq(externalSubjects.issuer, account.issuer), eq(externalSubjects.subject, account.subject)));
  return bound?.identityId;
};

/**
 * A new subject is matched by email only when the provider vouches for the address, exactly one
 * identity has it (case-insensitively), and that identity is not already bound to another subject
 * of this provider: a second account at the provider must not take over someone's identity.
 */
const identityByEmail = async (db: Executor, account: ProviderAccount): Promise<string> => {
  if (!account.email) throw refused('no_email_claim');
  if (!account.emailVerified) throw refused('email_not_verified');
  const found = await db.select({ id: identities.id }).from(identities)
    .where(sql`lower(${identities.email}) = lower(${account.email})`).limit(2);
  if (found.length === 0) throw refused('no_identity_with_email');
  if (found.length > 1) throw refused('email_shared_by_identities');
  const identityId = found[0]!.id;
  const [other] = await db.select({ subject: externalSubjects.subject }).from(externalSubjects)
    .where(and(eq(externalSubjects.issuer, account.issuer), eq(externalSubjects.identityId, identityId))).limit(1);
  if (other) throw refused('identity_bound_to_another_subject');
  return identityId;
};

const matchIdentity = async (db: Executor, account: ProviderAccount): Promise<Match> => {
  const bound = await boundIdentity(db, account);
  if (bound) return { identityId: bound, matchedBy: 'subject' };
  return { identityId: await identityByEmail(db, account), matchedBy: 'email' };
};

/**
 * Opens the session as the identity itself (channel web). The identity is locked and re-read here,
 * so a suspension that commits first refuses the sign-in, and one that commits after ends the session.
 */
const openSession = (ctx: Context, account: ProviderAccount, match: Match, ttlMs: number) =>
  inTransaction({ ...ctx, actor: { id: match.identityId, channel: 'web' } }, async (work) => {
    const person = await lockIdentity(work.tx, match.identityId);
    if (person.status !== 'active') throw refused('identity_not_active');
    if (person.kind === 'service_account') throw refused('service_account');
    if (match.matchedBy === 'email') {
      await work.tx.insert(externalSubjects).values({ issuer: account.issuer, subject: account.subject,
        identityId: person.id, createdAt: work.now }).onConflictDoNothing();
    }
    const { assurance } = account;
    return openWebSession(work, person.id, ttlMs, 'oidc', {
      issuer: account.issuer, subject: account.subject, matchedBy: match.matchedBy, subjectBound: match.matchedBy === 'email',
      mfaBasis: assurance.basis, amr: assurance.amr, acr: assurance.acr ?? null,
    }, mfaPerformedAt(assurance, work.now));
  });

/**
 * Completes a web sign-in: the callback must come back to the browser that started it (the state
 * in its cookie), consumes the sign-in exactly once, exchanges the code with PKCE, maps the
 * provider account to an active identity and opens a session. Returns the session secret: the
 * cookie is the only place it goes; the database keeps its hash, the audit event its id.
 */
export const finishSignIn = async (ctx: Context, client: OidcClient, input: FinishSignInInput) => {
  const state = input.callbackUrl.searchParams.get('state');
  if (!state || !input.boundState || !sameText(state, input.boundState)) throw invalid('state_not_from_this_browser');
  const login = await consumeLogin(ctx, state);
  const account = await client.identify(input.callbackUrl, login);
  const match = await matchIdentity(ctx.store.db, account);
  const session = await openSession(ctx, account, match, input.sessionTtlMs);
  return { ...session, returnTo: login.returnTo };
};
