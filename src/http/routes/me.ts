import { z } from 'zod';
import { loadActor } from '../../operations/authorize.js';
import { setMailDelivery, Input as MailDeliveryInput } from '../../operations/set-mail-delivery.js';
import { handlesById } from '../../store/queries/identities.js';
import { contextOf } from '../access.js';
import { idParam, optionalDate, problems } from '../schemas.js';
import { typed, type RouteModule } from './route.js';

const Me = z.object({
  id: z.string(), handle: z.string(), displayName: z.string(), kind: z.string(), roles: z.array(z.string()),
  channel: z.enum(['api', 'web']), tokenId: z.string().nullable(), scopes: z.array(z.string()),
  issuedBy: z.string().nullable().describe('the handle of who minted this token, when someone else (a service account\'s owner or IAM)'),
  mfa: z.boolean().describe('this session\'s sign-in used MFA, or this token was minted from one; Tenure\'s proxies present it as the mfa context'),
  mfaAt: optionalDate.describe('when that MFA was performed, when known: an entitlement\'s mfa_max_age measures it'),
});

const MailDelivery = z.object({
  handle: z.string(), mailDelivery: z.enum(['immediate', 'daily_digest']),
  changed: z.boolean().describe('false when it was already so: nothing was written'),
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
      channel: principal.channel, tokenId: principal.tokenId ?? null, scopes: [...principal.scopes], mfa: principal.mfa === true,
      mfaAt: principal.mfaAt ?? null };
  });
  const ctx = (request: Parameters<typeof contextOf>[0]) => contextOf(request, deps.store, deps.clock);
  const body = MailDeliveryInput.omit({ identity: true });
  typed(app).put('/v1/me/notifications', {
    config: { access: { scope: 'write', permission: 'self' } },
    schema: { tags: ['identities'], summary: 'How I receive non-urgent mail: at once, or in a daily digest (urgent mail always goes at once)',
      body, response: { 200: MailDelivery, ...problems } },
  }, async (request) => setMailDelivery(ctx(request), request.body));
  // Access is the use case's: one's own setting is one's own, anyone else's takes admin or IAM.
  typed(app).put('/v1/identities/:identity/notifications', {
    config: { access: { scope: 'write', permission: 'self' } },
    schema: { tags: ['identities'], summary: "Set how someone receives non-urgent mail (admin, IAM; anyone for themselves)",
      params: idParam('identity', 'id or handle'), body, response: { 200: MailDelivery, ...problems } },
  }, async (request) => setMailDelivery(ctx(request), { ...request.body, identity: request.params.identity }));
};
