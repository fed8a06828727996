import { z } from 'zod';
import { pageGrants } from '../../operations/list-grants.js';
import { Input as RevokeInput, revokeGrant } from '../../operations/revoke-grant.js';
import { runLifecycleTick } from '../../jobs/lifecycle.js';
import { contextOf } from '../access.js';
import { cursorQuery, idParam, isoDate, limitQuery, optionalDate, page, problems, refQuery } from '../schemas.js';
import { typed, type RouteModule } from './route.js';

const GrantView = z.object({
  id: z.string(), identity: z.string().optional(), entitlement: z.string(), tier: z.string(), status: z.string(), origin: z.string(),
  startsAt: isoDate, endsAt: optionalDate, provisioningState: z.string(), requestId: z.string().nullable(),
  exceptionId: z.string().nullable(), endedAt: optionalDate, endReason: z.string().nullable(), createdAt: isoDate,
});
const ListQuery = z.object({
  identity: refQuery, entitlement: refQuery,
  status: z.enum(['scheduled', 'active', 'expired', 'revoked', 'live']).optional(), limit: limitQuery(5000), cursor: cursorQuery,
}).strict();
const Tick = z.object({ grantsActivated: z.number(), grantsExpired: z.number(), requestsExpired: z.number(), engagementsEnded: z.number() });

export const grantRoutes: RouteModule = (app, deps) => {
  const r = typed(app);
  const ctx = (request: Parameters<typeof contextOf>[0]) => contextOf(request, deps.store, deps.clock);
  r.get('/v1/grants', {
    config: { access: { scope: 'read', permission: 'self' } },
    schema: { tags: ['grants'], summary: 'My grants, or those of someone I answer for (all for IAM, security, auditors), newest first',
      querystring: ListQuery, response: { 200: page(GrantView), ...problems } },
  }, async (request) => pageGrants(ctx(request), request.query));
  r.post('/v1/grants/:grant/revoke', {
    config: { access: { scope: 'write', permission: 'self' } },
    schema: { tags: ['grants'], summary: 'End a grant now (holder, sponsor or owner, system owners, IAM, security)',
      params: idParam('grant', 'grant id'), body: RevokeInput.omit({ grant: true }),
      response: { 200: z.object({ id: z.string(), status: z.string() }), ...problems } },
  }, async (request) => revokeGrant(ctx(request), { ...request.body, grant: request.params.grant }));
  r.post('/v1/lifecycle/run', {
    config: { access: { scope: 'write', permission: 'worker.run' } },
    schema: { tags: ['grants'], summary: 'Run one lifecycle pass now (what the worker does on its interval)', response: { 200: Tick, ...problems } },
  }, async (request) => runLifecycleTick(ctx(request)));
};
