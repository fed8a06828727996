import { eq } from 'drizzle-orm';
import { z } from 'zod';
import { TenureError } from '../domain/errors.js';
import { managesTokensOf } from '../domain/tokens.js';
import { apiTokens } from '../store/schema-service.js';
import { identities } from '../store/schema.js';
import { loadActor, requireVisible } from './authorize.js';
import { inTransaction, type Context } from '../work/context.js';
import { parseInput } from './input.js';
import { revokeDescendants } from './lib/ending/revoke-descendants.js';

export const Input = z.object({ token: z.uuid('must be a token id') }).strict();

/**
 * Revokes a token at once, and every token minted with it (its descendants), in one transaction:
 * the next request that presents any of them is refused. Revoking twice is refused as not found.
 */
export const revokeToken = async (ctx: Context, input: z.input<typeof Input>) => {
  const data = parseInput(Input, input);
  return inTransaction(ctx, async (work) => {
    const acting = await loadActor(work.tx, work.actor.id);
    const [row] = await work.tx.select({ token: apiTokens, owner: identities }).from(apiTokens)
      .innerJoin(identities, eq(identities.id, apiTokens.identityId)).where(eq(apiTokens.id, data.token)).for('update');
    // Unknown, already revoked and not yours all answer the same, so token ids cannot be probed.
    const missing = () => new TenureError('token.not_found', `no token '${data.token}'`, { field: 'token' });
    if (!row || row.token.revokedAt) throw missing();
    requireVisible(acting, managesTokensOf(row.owner, acting.identity.id), 'token.manage_any', missing);
    await work.tx.update(apiTokens).set({ revokedAt: work.now, revokedBy: acting.identity.id }).where(eq(apiTokens.id, row.token.id));
    work.record({ action: 'token.revoked', subject: { type: 'token', id: row.token.id }, identityId: row.owner.id,
      before: { revokedAt: null }, after: { revokedAt: work.now } });
    const descendants = await revokeDescendants(work, [row.token.id], 'its parent token was revoked');
    return { id: row.token.id, revokedAt: work.now, revokedDescendants: descendants };
  });
};
