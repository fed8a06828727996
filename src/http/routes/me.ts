import { z } from 'zod';
import { loadActor } from '../../operations/authorize.js';
import { handlesById } from '../../store/queries/identities.js';
import { problems } from '../schemas.js';
import { typed, type RouteModule } from './route.js';

const Me = z.object({
  id: z.string(), handle: z.string(), displayName: z.string(), kind: z.string(), roles: z.array(z.string()),
  channel: z.enum(['api', 'web']), tokenId: z.string().nullable(), scopes: z.array(z.string()),
  issuedBy: z.string().nullable().describe('the handle of who minted this token, when someone else (a service account\'s owner or IAM)'),
});

/** Who the caller is to Tenure: the identity behind the token or session, its roles and the token's scopes. */
export const meRoutes: RouteModule = (app, deps) => {
  typed(app).get('/v1/me', {
    config: { access: { scope: 'read', permission: 'self' } },
    schema: { tags: ['identities'], summary: 'The calling identity', response: { 200: Me, ...problems } },
  }, async (request) => {
    const principal = request.principal!;
    const { identity, roles } = await loadActor(deps.store.db, principal.identityId);
    const issuedBy = principal.issuedBy ? (await handlesById(deps.store.db, [principal.issuedBy])).get(principal.issuedBy) ?? principal.issuedBy : null;
    return { issuedBy, id: identity.id, handle: identity.handle, displayName: identity.displayName, kind: identity.kind, roles,
      channel: principal.channel, tokenId: principal.tokenId ?? null, scopes: [...principal.scopes] };
  });
};
