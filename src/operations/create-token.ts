import { eq } from 'drizzle-orm';
import { z } from 'zod';
import { TenureError } from '../domain/errors.js';
import { newId } from '../domain/ids.js';
import { boundByParent, mayMintTokenFor, MAX_TOKEN_TTL_MS, TOKEN_SCOPES, tokenCarriesMfa, tokenMfaAt, type ParentToken } from '../domain/tokens.js';
import type { Tx } from '../store/database.js';
import { findIdentity } from '../store/queries/identities.js';
import { apiTokens } from '../store/schema-service.js';
import { loadActor, may, refuseUnless } from './authorize.js';
import { inTransaction, type Context } from '../work/context.js';
import { duration, parseInput, ref, text } from './input.js';
import { hashSecret, newSecret } from './lib/credentials/secrets.js';

export const CreateTokenInput = z.object({
  name: text(100),
  identity: ref.optional(),
  scopes: z.array(z.enum(TOKEN_SCOPES)).min(1, 'must name at least one scope').default(['read']),
  expiresIn: duration.optional(),
}).strict();

/**
 * The token the caller authenticated with, locked against a concurrent revocation: once that
 * commits, this reads the revoked row and refuses, so no child is born to a dead parent.
 */
const lockParent = async (tx: Tx, tokenId: string | undefined, now: Date): Promise<ParentToken | undefined> => {
  if (!tokenId) return undefined;
  const [parent] = await tx.select({ scopes: apiTokens.scopes, expiresAt: apiTokens.expiresAt, revokedAt: apiTokens.revokedAt, mfa: apiTokens.mfa,
    mfaAt: apiTokens.mfaAt })
    .from(apiTokens).where(eq(apiTokens.id, tokenId)).for('share');
  if (!parent || parent.revokedAt || parent.expiresAt <= now) {
    throw new TenureError('auth.invalid_credentials', 'the token this request was made with is no longer valid');
  }
  return parent;
};

/**
 * Creates an API token and returns its secret: the only time it is ever shown. The database keeps
 * its hash; the audit event records the token's id, owner, parent, scopes and expiry, never the secret.
 *
 * Who may mint for whom is `mayMintTokenFor`: a person's token only by that person, a service
 * account's by its owner or `token.manage_any`. Minted with a token, the new token is that token's
 * child (bounded by it, revoked with it); minted from a web session or the local CLI, it is a root.
 * It carries MFA only as `tokenCarriesMfa` says: the minter's own, for the minter's own token.
 */
export const createToken = async (ctx: Context, input: z.input<typeof CreateTokenInput>) => {
  const data = parseInput(CreateTokenInput, input);
  if (data.expiresIn !== undefined && data.expiresIn > MAX_TOKEN_TTL_MS) {
    throw new TenureError('token.invalid_expiry', 'expiresIn: a token lives at most 365d', { field: 'expiresIn' });
  }
  return inTransaction(ctx, async (work) => {
    const acting = await loadActor(work.tx, work.actor.id);
    const subject = data.identity ? await findIdentity(work.tx, data.identity, 'identity') : acting.identity;
    const mayMint = mayMintTokenFor(subject, acting.identity.id, may(acting, 'token.manage_any'));
    if (!mayMint && subject.kind !== 'service_account') {
      throw new TenureError('token.person_only_self', `only ${subject.handle} may create a token for ${subject.handle}`, { field: 'identity' });
    }
    refuseUnless(mayMint, `you may not create tokens for ${subject.handle}`, 'identity');
    if (subject.status !== 'active') throw new TenureError('identity.not_active', `${subject.handle} is ${subject.status}`, { field: 'identity' });
    const parent = await lockParent(work.tx, work.actor.tokenId, work.now);
    const scopes = [...new Set(data.scopes)];
    const expiresAt = boundByParent(parent, scopes, work.now, data.expiresIn);
    const secret = newSecret('tnr');
    const mfa = tokenCarriesMfa(subject.id, acting.identity.id, parent, work.actor.mfa === true);
    const row = {
      id: newId(), identityId: subject.id, name: data.name, scopes, secretHash: hashSecret(secret),
      expiresAt, createdAt: work.now, createdBy: acting.identity.id, parentTokenId: work.actor.tokenId ?? null,
      mfa, mfaAt: tokenMfaAt(mfa, parent, work.actor.mfaAt),
    };
    await work.tx.insert(apiTokens).values(row);
    work.record({ action: 'token.created', subject: { type: 'token', id: row.id }, identityId: subject.id,
      after: { name: row.name, scopes: row.scopes, expiresAt: row.expiresAt, parentTokenId: row.parentTokenId, mfa: row.mfa,
        ...(row.mfaAt ? { mfaAt: row.mfaAt } : {}) } });
    return { id: row.id, identity: subject.handle, name: row.name, scopes: row.scopes, expiresAt: row.expiresAt, parentTokenId: row.parentTokenId,
      mfa: row.mfa, mfaAt: row.mfaAt, secret };
  });
};
