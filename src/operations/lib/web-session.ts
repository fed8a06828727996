import { newId } from '../../domain/ids.js';
import { sessions } from '../../store/schema-service.js';
import type { Work } from '../../work/context.js';
import { hashSecret, newSecret } from './credentials/secrets.js';

/** How a person proved who they are before a session was opened; recorded in `session.created`. */
export type SignInMethod = 'oidc' | 'demo_link';

/**
 * Opens a web session for an identity the caller has already locked and checked, and records
 * `session.created` in the same transaction. Every way of signing in to the console goes through
 * here, so sessions look alike whatever opened them: the cookie gets the secret, the database its
 * hash, the audit event its id, expiry, whether and when the sign-in's MFA was performed and the method (never the secret).
 */
export const openWebSession = async (
  work: Work, identityId: string, ttlMs: number, method: SignInMethod, data: Record<string, unknown>, mfaAt: Date | null = null,
) => {
  const secret = newSecret('tns');
  const mfa = mfaAt !== null;
  const session = { id: newId(), identityId, secretHash: hashSecret(secret), createdAt: work.now,
    expiresAt: new Date(work.now.getTime() + ttlMs), mfa, mfaAt };
  await work.tx.insert(sessions).values(session);
  work.record({ action: 'session.created', subject: { type: 'session', id: session.id }, identityId,
    after: { expiresAt: session.expiresAt, mfa, ...(mfaAt ? { mfaAt } : {}) }, data: { method, ...data } });
  return { sessionId: session.id, identityId, secret, expiresAt: session.expiresAt };
};
