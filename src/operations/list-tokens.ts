import { and, desc, eq, inArray, isNull, or, type SQL } from 'drizzle-orm';
import { handlesById } from '../store/queries/identities.js';
import { apiTokens } from '../store/schema-service.js';
import { identities } from '../store/schema.js';
import { loadActor, may } from './authorize.js';
import type { Context } from '../work/context.js';

/**
 * Tokens the actor manages: its own and those of the service accounts it owns (everyone's for token
 * administrators). Never the secret or its hash.
 */
export const listTokens = async (ctx: Context) => {
  const exec = ctx.store.db;
  const acting = await loadActor(exec, ctx.actor.id);
  const me = acting.identity.id;
  const owned = exec.select({ id: identities.id }).from(identities).where(eq(identities.ownerId, me));
  const scope: SQL | undefined = may(acting, 'token.manage_any')
    ? undefined : or(eq(apiTokens.identityId, me), inArray(apiTokens.identityId, owned));
  const rows = await exec.select({
    id: apiTokens.id, identityId: apiTokens.identityId, name: apiTokens.name, scopes: apiTokens.scopes,
    expiresAt: apiTokens.expiresAt, createdAt: apiTokens.createdAt, revokedAt: apiTokens.revokedAt, lastUsedAt: apiTokens.lastUsedAt,
    mfa: apiTokens.mfa, mfaAt: apiTokens.mfaAt,
  }).from(apiTokens).where(and(scope, isNull(apiTokens.revokedAt))).orderBy(desc(apiTokens.createdAt));
  const handles = await handlesById(exec, rows.map((r) => r.identityId));
  return rows.map(({ identityId, ...r }) => ({ ...r, identity: handles.get(identityId) ?? identityId }));
};
