/**
 * Who is connecting to the SSH proxy. A person proves they hold a key Tenure certified for one of
 * their grants (public-key authentication, the signature checked here), names `account@host` as
 * their login, and is let in only while the decision point says that grant is live. Password and
 * keyboard-interactive logins are not offered; a certificate offered as such is declined, and the
 * client then offers the key it certifies, which is what the record of issued certificates names.
 */
import { createHash } from 'node:crypto';
import ssh2 from 'ssh2';
import type { AuthContext, PublicKeyAuthContext } from 'ssh2';
import type { DecisionService } from '../../decision/service.js';
import type { DecisionContext } from '../../domain/decision-conditions.js';
import { resolveSshProxyLogins, type SshProxyLogin } from '../../operations/resolve-ssh-proxy-login.js';
import type { Context } from '../../work/context.js';

/** `account@host`: OpenSSH splits `ssh account@host@proxy` at its last `@`, so the login keeps the first. */
export const parseLogin = (username: string): { account: string; host: string } | undefined => {
  const at = username.lastIndexOf('@');
  if (at <= 0 || at === username.length - 1 || username.length > 256) return undefined;
  return { account: username.slice(0, at), host: username.slice(at + 1) };
};

/** OpenSSH's SHA256 fingerprint of a public key blob, as `ssh-keygen -l` prints and the certificate record keeps. */
export const fingerprintOfBlob = (blob: Buffer): string => `SHA256:${createHash('sha256').update(blob).digest('base64').replace(/=+$/, '')}`;

const provesKey = (ctx: PublicKeyAuthContext): boolean => {
  const key = ssh2.utils.parseKey(ctx.key.data);
  if (key instanceof Error || !ctx.signature || !ctx.blob) return false;
  return key.verify(ctx.blob, ctx.signature, ctx.hashAlgo) === true;
};

export type Admission = { login: SshProxyLogin; grantId: string; context: DecisionContext } | { refused: string };

/**
 * Answers one authentication attempt: undefined while the client has only asked whether a key is
 * acceptable (it is, when it is certified for this login), else who is admitted or why not.
 */
export const admit = async (ctx: Context, decision: DecisionService, auth: AuthContext, sourceAddress: string): Promise<Admission | 'key_acceptable'> => {
  if (auth.method !== 'publickey') return { refused: `${auth.method} is not offered: use the key Tenure certified` };
  const names = parseLogin(auth.username);
  if (!names) return { refused: 'the login must be account@host' };
  if (ssh2.utils.parseKey(auth.key.data) instanceof Error) return { refused: 'the key is not one the proxy reads (certificates are declined; offer the key)' };
  const now = ctx.clock.now();
  const candidates = await resolveSshProxyLogins(ctx.store, { fingerprint: fingerprintOfBlob(auth.key.data), ...names }, now);
  if (candidates.length === 0) return { refused: 'no certificate valid now certifies this key for that account and host' };
  if (!auth.signature) return 'key_acceptable';
  if (!provesKey(auth)) return { refused: 'the signature does not verify' };
  let admitted = firstAllowed(decision, candidates, sourceAddress, now);
  // A grant approved a moment ago may not have reached the index yet: a login is rare, a refresh cheap.
  if ('refused' in admitted) { await decision.sync(); admitted = firstAllowed(decision, candidates, sourceAddress, now); }
  return admitted;
};

/**
 * The first candidate grant the decision point allows now, asked with what Tenure knows itself: the
 * certificate's sign-in MFA (and when it was performed) and the address the client's connection comes from.
 */
const firstAllowed = (decision: DecisionService, candidates: SshProxyLogin[], sourceAddress: string, now: Date): Admission => {
  const reasons: string[] = [];
  for (const login of candidates) {
    const context: DecisionContext = { mfa: login.mfa, mfaAt: login.mfaAt?.getTime(), sourceAddress };
    const answer = decision.check({ identity: login.identityId, entitlement: login.entitlementKey, context }, now);
    if (answer.decision === 'allow' && answer.grant) return { login, grantId: answer.grant.id, context };
    reasons.push(`${login.entitlementKey}: ${answer.reason}`);
  }
  return { refused: `${candidates[0]!.handle} may not use it now (${reasons.join(', ')})` };
};
