import { z } from 'zod';
import { TenureError } from '../domain/errors.js';
import { newId } from '../domain/ids.js';
import { allows } from '../domain/permissions.js';
import { DEFAULT_TOKEN_TTL_MS, managesTokensOf, MAX_TOKEN_TTL_MS, TOKEN_SCOPES } from '../domain/tokens.js';
import { findIdentity } from '../store/queries/identities.js';
import { apiTokens } from '../store/schema-service.js';
import { loadActor } from './authorize.js';
import { inTransaction, type Context } from './context.js';
import { duration, parseInput, ref, text } from './input.js';
import { hashSecret, newSecret } from './lib/secrets.js';

export const CreateTokenInput = z.object({
  name: text(100),
  identity: ref.optional(),
  scopes: z.array(z.enum(TOKEN_SCOPES)).min(1, 'must name at least one scope').default(['read']),
  expiresIn: duration.optional(),
}).strict();

/**
 * Creates an API token and returns its secret: the only time it is ever shown. The database keeps
 * its hash; the audit event records the token's id, owner, scopes and expiry, never the secret.
 */
export const createToken = async (ctx: Context, input: z.input<typeof CreateTokenInput>) => {
  const data = parseInput(CreateTokenInput, input);
  const ttl = data.expiresIn ?? DEFAULT_TOKEN_TTL_MS;
  if (ttl > MAX_TOKEN_TTL_MS) throw new TenureError('token.invalid_expiry', 'expiresIn: a token lives at most 365d', { field: 'expiresIn' });
  return inTransaction(ctx, async (work) => {
    const acting = await loadActor(work.tx, work.actor.id);
    const subject = data.identity ? await findIdentity(work.tx, data.identity, 'identity') : acting.identity;
    if (!managesTokensOf(subject, acting.identity.id) && !allows(acting.roles, 'token.manage_any')) {
      throw new TenureError('actor.forbidden', `you may not create tokens for ${subject.handle}`, { field: 'identity' });
    }
    if (subject.status !== 'active') throw new TenureError('identity.not_active', `${subject.handle} is ${subject.status}`, { field: 'identity' });
    const secret = newSecret('tnr');
    const row = {
      id: newId(), identityId: subject.id, name: data.name, scopes: [...new Set(data.scopes)], secretHash: hashSecret(secret),
      expiresAt: new Date(work.now.getTime() + ttl), createdAt: work.now, createdBy: acting.identity.id,
    };
    await work.tx.insert(apiTokens).values(row);
    work.record({ action: 'token.created', subject: { type: 'token', id: row.id }, identityId: subject.id,
      after: { name: row.name, scopes: row.scopes, expiresAt: row.expiresAt } });
    return { id: row.id, identity: subject.handle, name: row.name, scopes: row.scopes, expiresAt: row.expiresAt, secret };
  });
};
