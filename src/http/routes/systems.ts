import { z } from 'zod';
import { CONNECTOR_HEALTH } from '../../domain/system-health.js';
import { listSystems } from '../../operations/list-systems.js';
import { Input as LagInput, measureRevocationLag } from '../../operations/measure-revocation-lag.js';
import { contextOf } from '../access.js';
import { isoDate, optionalDate, problems } from '../schemas.js';
import { typed, type RouteModule } from './route.js';

const Operations = z.object({
  connector: z.string().describe('the connector type in policy; manual when there is none'),
  reconcileMode: z.enum(['report', 'revoke']).nullable(), reconcileEveryMs: z.number().nullable(),
  health: z.enum(CONNECTOR_HEALTH).describe('the worst of: an unsafe connector (its own credentials reach far beyond its job), held revocations, failing or retried jobs, open drift, overdue manual tasks, no or stale reconciliation'),
  openJobs: z.record(z.string(), z.number().int()).describe('unfinished provisioning jobs by state'),
  retrying: z.number().int().describe('unfinished jobs whose last attempt failed'),
  overdueTasks: z.number().int(), lastError: z.string().nullable().describe('the newest error of an unfinished job'),
  lastReconciliation: z.object({
    finishedAt: isoDate, accounts: z.number().int(), liveGrants: z.number().int(), drift: z.record(z.string(), z.number().int()),
    revoked: z.number().int(), brakeHeld: z.boolean(),
  }).nullable(),
  openDriftFindings: z.number().int(),
}).describe('only for readers of provisioning and the system\'s owners; null otherwise');
const SystemView = z.object({
  key: z.string(), name: z.string(), criticality: z.string(), businessOwner: z.string().nullable(), technicalOwner: z.string().nullable(),
  entitlements: z.array(z.object({ key: z.string(), name: z.string(), tier: z.string(), target: z.string().nullable() })),
  operations: Operations.nullable(),
});
const Figures = {
  removed: z.number().int(), open: z.number().int().describe('removals not yet confirmed by the target'),
  medianMs: z.number().nullable(), p95Ms: z.number().nullable(), maxMs: z.number().nullable(), oldestOpenDueAt: optionalDate,
};
const LagView = z.object({
  days: z.number().int(), since: isoDate, ...Figures,
  byDay: z.array(z.object({ day: z.string(), removed: z.number().int(), medianMs: z.number().nullable(), maxMs: z.number().nullable() })),
  bySystem: z.array(z.object({ system: z.string(), ...Figures })),
});

/** Systems as the console shows them, and how fast removal reaches them. */
export const systemRoutes: RouteModule = (app, deps) => {
  const r = typed(app);
  const ctx = (request: Parameters<typeof contextOf>[0]) => contextOf(request, deps.store, deps.clock);
  r.get('/v1/systems', {
    config: { access: { scope: 'read', permission: 'self' } },
    schema: { tags: ['provisioning'], summary: 'Systems with owners and entitlements; connector health and last reconciliation for operators and owners',
      response: { 200: z.object({ items: z.array(SystemView) }), ...problems } },
  }, async (request) => listSystems(ctx(request)));
  r.get('/v1/stats/revocation-lag', {
    config: { access: { scope: 'read', permission: 'provisioning.read' } },
    schema: { tags: ['provisioning'], summary: 'How long access stayed in targets after its grant ended, per day and per system',
      querystring: LagInput, response: { 200: LagView, ...problems } },
  }, async (request) => measureRevocationLag(ctx(request), request.query));
};
