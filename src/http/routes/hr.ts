import { z } from 'zod';
import { decideHrBatch, Input as DecideInput } from '../../operations/decide-hr-batch.js';
import { importHrFile, Input as ImportInput } from '../../operations/import-hr-file.js';
import { ingestHrEvents, Input as EventsInput } from '../../operations/ingest-hr-events.js';
import { listHrBatches, Input as BatchesInput } from '../../operations/list-hr-batches.js';
import { reassignOwnership, Input as ReassignInput } from '../../operations/reassign-ownership.js';
import { contextOf } from '../access.js';
import { idParam, isoDate, optionalDate, problems } from '../schemas.js';
import { typed, type RouteModule } from './route.js';

const count = z.number().int();
const Summary = z.object({
  received: count, replayed: count, applied: count, scheduled: count, superseded: count, refused: count, hired: count, rehired: count,
  changed: count, movers: count, leavers: count, birthrightGranted: count, birthrightRevoked: count, conflicts: count, reviewsOpened: count, late: count,
});
const RunResult = z.object({
  dryRun: z.boolean(),
  held: z.object({ batchId: z.string().nullable(), wouldSuspend: count, population: count, share: z.number() }).nullable()
    .describe('set when the suspension brake held the batch: nothing was applied, security must confirm or discard it'),
  summary: Summary,
  changes: z.array(z.object({ event: z.string(), person: z.string(), type: z.string(), outcome: z.string(), effects: z.array(z.string()) }))
    .describe('what each event did (or would do, on a dry run); the first 1,000'),
});
const Batch = z.object({ id: z.string(), status: z.string(), events: count, wouldSuspend: count, population: count,
  createdAt: isoDate, decidedAt: optionalDate, reason: z.string().nullable() });

/** The HR feed: events by API or file, the brake's held batches, and re-assigning what a leaver answered for. */
export const hrRoutes: RouteModule = (app, deps) => {
  const r = typed(app);
  const ctx = (request: Parameters<typeof contextOf>[0]) => contextOf(request, deps.store, deps.clock);
  /** A batch the brake held was accepted, not applied: 202 says so. */
  const status = (result: z.infer<typeof RunResult>) => (result.held && !result.dryRun ? 202 : 200);
  r.post('/v1/hr/events', {
    config: { access: { scope: 'write', permission: 'hr.ingest' } },
    schema: { tags: ['hr'], summary: 'Send HR events (hire, change, leave), at most 1,000 per call; replays change nothing',
      body: EventsInput, response: { 200: RunResult, 202: RunResult, ...problems } },
  }, async (request, reply) => {
    const result = await ingestHrEvents(ctx(request), request.body);
    return reply.code(status(result)).send(result);
  });
  r.post('/v1/hr/imports', {
    config: { access: { scope: 'write', permission: 'hr.ingest' } },
    bodyLimit: 64 * 1024 * 1024,
    schema: { tags: ['hr'], summary: 'Import an HR file (CSV text); the brake looks at the whole file; dryRun reports without changing anything',
      body: ImportInput, response: { 200: RunResult, 202: RunResult, ...problems } },
  }, async (request, reply) => {
    const result = await importHrFile(ctx(request), request.body);
    return reply.code(status(result)).send(result);
  });
  r.get('/v1/hr/batches', {
    config: { access: { scope: 'read', permission: 'hr.read' } },
    schema: { tags: ['hr'], summary: 'HR batches held by the suspension brake, and what security decided',
      querystring: BatchesInput, response: { 200: z.object({ items: z.array(Batch) }), ...problems } },
  }, async (request) => ({ items: await listHrBatches(ctx(request), request.query) }));
  r.post('/v1/hr/batches/:batch/decide', {
    config: { access: { scope: 'write', permission: 'hr.release_brake' } },
    schema: { tags: ['hr'], summary: 'Confirm (apply) or discard an HR batch held by the brake: a security decision, by a person',
      params: idParam('batch', 'held HR batch id'), body: DecideInput.omit({ batch: true }),
      response: { 200: RunResult.extend({ batchId: z.string(), decision: z.string() }), ...problems } },
  }, async (request) => decideHrBatch(ctx(request), { ...request.body, batch: request.params.batch }));
  r.post('/v1/identities/:identity/reassign', {
    config: { access: { scope: 'write', permission: 'self' } },
    schema: { tags: ['hr'], summary: 'Move what a person sponsored or owned to another active employee (IAM, or the person\'s manager)',
      params: idParam('identity', 'the person who answered for these things'), body: ReassignInput.omit({ from: true }),
      response: { 200: z.object({ from: z.string(), to: z.string(), sponsored: count, serviceAccounts: count, engagements: count,
        findingsResolved: count }), ...problems } },
  }, async (request) => reassignOwnership(ctx(request), { ...request.body, from: request.params.identity }));
};
