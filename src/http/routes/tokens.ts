import { z } from 'zod';
import { TOKEN_SCOPES } from '../../domain/tokens.js';
import { createToken, CreateTokenInput } from '../../operations/create-token.js';
import { listTokens } from '../../operations/list-tokens.js';
import { revokeToken } from '../../operations/revoke-token.js';
import { contextOf } from '../access.js';
import { idParam, isoDate, optionalDate, problems } from '../schemas.js';
import { typed, type RouteModule } from './route.js';

const TokenView = z.object({
  id: z.string(), identity: z.string(), name: z.string(), scopes: z.array(z.enum(TOKEN_SCOPES)),
  expiresAt: isoDate, createdAt: isoDate, lastUsedAt: optionalDate,
  mfa: z.boolean().describe('the holder\'s own MFA sign-in stands behind this token; Tenure\'s proxies present it as the mfa context'),
  mfaAt: optionalDate.describe('when that MFA was performed, when known: an entitlement\'s mfa_max_age measures it'),
});
const Created = z.object({
  id: z.string(), identity: z.string(), name: z.string(), scopes: z.array(z.enum(TOKEN_SCOPES)), expiresAt: isoDate,
  parentTokenId: z.string().nullable().describe('the token this one was minted with (it ends no later, holds no more, dies with it); null for a root'),
  mfa: z.boolean().describe('minted for yourself from an MFA sign-in (or an MFA token): an entitlement requiring MFA allows it through Tenure\'s proxies'),
  mfaAt: optionalDate.describe('when that MFA was performed, when known: an entitlement\'s mfa_max_age measures it'),
  secret: z.string().nullable().describe('shown once, never again: store it now (null on an Idempotency-Key replay)'),
  secretShownOnce: z.boolean().optional().describe('true on an Idempotency-Key replay: the secret was in the first answer only'),
});

/** API tokens: one's own and one's service accounts' (everyone's for token administrators). */
export const tokenRoutes: RouteModule = (app, deps) => {
  const r = typed(app);
  const ctx = (request: Parameters<typeof contextOf>[0]) => contextOf(request, deps.store, deps.clock);
  r.get('/v1/tokens', {
    config: { access: { scope: 'read', permission: 'self' } },
    schema: { tags: ['tokens'], summary: 'Live tokens I manage (never their secrets)', response: { 200: z.object({ items: z.array(TokenView) }), ...problems } },
  }, async (request) => ({ items: (await listTokens(ctx(request))).map((t) => ({ ...t, scopes: t.scopes as typeof TOKEN_SCOPES[number][] })) }));
  r.post('/v1/tokens', {
    config: { access: { scope: 'write', permission: 'self' }, shownOnce: ['secret'] },
    schema: { tags: ['tokens'], summary: 'Create a token; the secret is in this answer only', body: CreateTokenInput, response: { 201: Created, ...problems } },
  }, async (request, reply) => reply.code(201).header('cache-control', 'no-store').send(await createToken(ctx(request), request.body)));
  r.delete('/v1/tokens/:token', {
    config: { access: { scope: 'write', permission: 'self' } },
    schema: { tags: ['tokens'], summary: 'Revoke a token at once', params: idParam('token', 'token id'),
      response: { 200: z.object({ id: z.string(), revokedAt: isoDate, revokedDescendants: z.number().int().describe('tokens minted with it, revoked with it') }), ...problems } },
  }, async (request) => revokeToken(ctx(request), { token: request.params.token }));
};
