import { z } from 'zod';
import { ENGAGEMENT_STATUSES } from '../../domain/model.js';
import { changeEngagementEnd, ChangeInput, endEngagement, EndInput } from '../../operations/change-engagement-end.js';
import { createEngagement, Input as CreateInput } from '../../operations/create-engagement.js';
import { pageEngagements } from '../../operations/list-engagements.js';
import { showEngagement } from '../../operations/show-engagement.js';
import { contextOf } from '../access.js';
import { cursorQuery, idParam, isoDate, limitQuery, optionalDate, page, problems, refQuery } from '../schemas.js';
import { typed, type RouteModule } from './route.js';

const EngagementView = z.object({
  id: z.string(), identity: z.string().optional(), vendor: z.string(), sponsor: z.string().optional(), status: z.string(),
  purpose: z.string(), startsAt: isoDate, endsAt: isoDate, scope: z.array(z.string()), dataSensitivity: z.string(),
});
const GrantUnder = z.object({
  id: z.string(), identity: z.string().optional(), entitlement: z.string(), tier: z.string(), system: z.string(), origin: z.string(),
  status: z.string(), provisioningState: z.string(), startsAt: isoDate, endsAt: optionalDate, endedAt: optionalDate, endReason: z.string().nullable(),
});
const EngagementDetail = EngagementView.extend({ grants: z.array(GrantUnder).describe('every grant issued under it, newest first') });
const Created = z.object({ id: z.string(), status: z.string(), startsAt: isoDate, endsAt: isoDate, scope: z.array(z.string()) });
const Counts = z.record(z.string(), z.union([z.number(), z.boolean()])).describe('what changed: ended, grants and requests affected');

const ListQuery = z.object({
  identity: refQuery, status: z.enum(ENGAGEMENT_STATUSES).optional(), limit: limitQuery(5000), cursor: cursorQuery,
}).strict();

export const engagementRoutes: RouteModule = (app, deps) => {
  const r = typed(app);
  const ctx = (request: Parameters<typeof contextOf>[0]) => contextOf(request, deps.store, deps.clock);
  r.get('/v1/engagements', {
    config: { access: { scope: 'read', permission: 'self' } },
    schema: { tags: ['engagements'], summary: 'Engagements I may see (mine, those I sponsor; all for IAM, security, auditors), soonest end first',
      querystring: ListQuery, response: { 200: page(EngagementView), ...problems } },
  }, async (request) => pageEngagements(ctx(request), request.query));
  r.get('/v1/engagements/:engagement', {
    config: { access: { scope: 'read', permission: 'self' } },
    schema: { tags: ['engagements'], summary: 'One engagement with the grants under it (404 unless mine, sponsored by me, or a reader of all)',
      params: idParam('engagement', 'engagement id'), response: { 200: EngagementDetail, ...problems } },
  }, async (request) => showEngagement(ctx(request), request.params.engagement));
  r.post('/v1/engagements', {
    config: { access: { scope: 'write', permission: 'engagement.create' } },
    schema: { tags: ['engagements'], summary: 'Start an engagement: vendor, purpose, dates, sensitivity, systems in scope', body: CreateInput,
      response: { 201: Created, ...problems } },
  }, async (request, reply) => reply.code(201).send(await createEngagement(ctx(request), request.body)));
  r.post('/v1/engagements/:engagement/end-date', {
    config: { access: { scope: 'write', permission: 'engagement.change' } },
    schema: { tags: ['engagements'], summary: 'Move the end; earlier shortens every grant and request under it', params: idParam('engagement', 'engagement id'),
      body: ChangeInput.omit({ engagement: true }), response: { 200: Counts, ...problems } },
  }, async (request) => changeEngagementEnd(ctx(request), { ...request.body, engagement: request.params.engagement }));
  r.post('/v1/engagements/:engagement/end', {
    config: { access: { scope: 'write', permission: 'engagement.change' } },
    schema: { tags: ['engagements'], summary: 'End now: revoke its grants, cancel its requests', params: idParam('engagement', 'engagement id'),
      body: EndInput.omit({ engagement: true }), response: { 200: Counts, ...problems } },
  }, async (request) => endEngagement(ctx(request), { ...request.body, engagement: request.params.engagement }));
};
