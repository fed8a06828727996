import { z } from 'zod';
import { REQUEST_STATUSES } from '../../domain/model.js';
import { approveRequest, Input as ApproveInput } from '../../operations/approve-request.js';
import { approveRequests, Input as BulkApprove } from '../../operations/approve-requests.js';
import { cancelRequest, Input as CancelInput } from '../../operations/cancel-request.js';
import { createRequest, Input as CreateInput } from '../../operations/create-request.js';
import { denyRequest, Input as DenyInput } from '../../operations/deny-request.js';
import { pageRequests, showRequest } from '../../operations/list-requests.js';
import { problemOf } from '../problem.js';
import { contextOf } from '../access.js';
import { cursorQuery, idParam, isoDate, limitQuery, optionalDate, page, problems, problemSchema, refQuery, sharedAccountHolder } from '../schemas.js';
import { typed, type RouteModule } from './route.js';

const Stage = z.object({
  position: z.number().int(), kind: z.string(), status: z.string(), approvers: z.array(z.string()),
  decidedBy: z.string().nullable().optional(), decidedAt: optionalDate, comment: z.string().nullable(),
});
const RequestView = z.object({
  id: z.string(), kind: z.string(), status: z.string(), requester: z.string().optional(), beneficiary: z.string().optional(),
  entitlement: z.string().optional(), tier: z.string().optional(), justification: z.string(), ticket: z.string().nullable(),
  startsAt: isoDate, endsAt: isoDate, outOfScope: z.boolean(), expiresAt: isoDate, grantId: z.string().nullable(), createdAt: isoDate,
  durationMs: z.number().nullable().describe('a request for a length of time: the clock starts at the final approval, and until then the window shown is as if approved now'),
  stages: z.array(Stage),
  queuePlace: z.number().int().nullable().describe('a queued check-out of a shared account: its place in the line now (1 = next); null otherwise'),
  warnings: z.array(z.object({ code: z.enum(['sod_conflict_held', 'sod_conflict_pending']), message: z.string() }))
    .describe('for a pending request: what the approver should know first, such as a separation-of-duties conflict'),
});
const Created = z.object({
  id: z.string(), status: z.string(), entitlementKey: z.string(), startsAt: isoDate, endsAt: isoDate, durationMs: z.number().nullable(), outOfScope: z.boolean(),
  expiresAt: isoDate, stages: z.array(z.object({ kind: z.string(), approverIds: z.array(z.string()) })),
});
const Decision = z.object({
  id: z.string(), status: z.string(), nextStage: z.string().nullable().optional(), grantId: z.string().nullable().optional(),
  queue: z.object({ position: z.number().int(), holder: sharedAccountHolder.nullable() }).optional()
    .describe('status queued: the place in the shared account\'s line (1 = next) and who holds it until when (null: nobody now, but others were queued first)'),
});
const ListQuery = z.object({
  view: z.enum(['inbox', 'mine', 'all']).optional(), status: z.enum(REQUEST_STATUSES).optional(),
  beneficiary: refQuery, limit: limitQuery(1000), cursor: cursorQuery,
}).strict();
const BulkResult = z.object({ results: z.array(z.object({ request: z.string(), outcome: Decision.nullable(), problem: problemSchema.nullable() })) });

const requestParam = idParam('request', 'request id');

export const requestRoutes: RouteModule = (app, deps) => {
  const r = typed(app);
  const ctx = (request: Parameters<typeof contextOf>[0]) => contextOf(request, deps.store, deps.clock);
  r.get('/v1/requests', {
    config: { access: { scope: 'read', permission: 'self' } },
    schema: { tags: ['requests'], summary: 'My requests, my inbox (oldest first), or all (IAM, security, auditors)', querystring: ListQuery,
      response: { 200: page(RequestView), ...problems } },
  }, async (request) => pageRequests(ctx(request), request.query));
  r.get('/v1/requests/:request', {
    config: { access: { scope: 'read', permission: 'self' } },
    schema: { tags: ['requests'], summary: 'One request with its stages (404 unless involved or a reader of all)', params: requestParam,
      response: { 200: RequestView, ...problems } },
  }, async (request) => showRequest(ctx(request), request.params.request));
  r.post('/v1/requests', {
    config: { access: { scope: 'write', permission: 'self' } },
    schema: { tags: ['requests'], summary: 'Request access (for yourself, or on behalf of someone you answer for)', body: CreateInput,
      response: { 201: Created, ...problems } },
  }, async (request, reply) => reply.code(201).send(await createRequest(ctx(request), request.body)));
  r.post('/v1/requests/:request/approve', {
    config: { access: { scope: 'write', permission: 'self' } },
    schema: { tags: ['requests'], summary: 'Approve the current stage (never your own request, never one for yourself)', params: requestParam,
      body: ApproveInput.omit({ request: true }), response: { 200: Decision, ...problems } },
  }, async (request) => approveRequest(ctx(request), { ...request.body, request: request.params.request }));
  r.post('/v1/requests/:request/deny', {
    config: { access: { scope: 'write', permission: 'self' } },
    schema: { tags: ['requests'], summary: 'Deny the request', params: requestParam, body: DenyInput.omit({ request: true }),
      response: { 200: Decision, ...problems } },
  }, async (request) => denyRequest(ctx(request), { ...request.body, request: request.params.request }));
  r.post('/v1/requests/:request/cancel', {
    config: { access: { scope: 'write', permission: 'self' } },
    schema: { tags: ['requests'], summary: 'Withdraw a pending request', params: requestParam, body: CancelInput.omit({ request: true }),
      response: { 200: Decision, ...problems } },
  }, async (request) => cancelRequest(ctx(request), { ...request.body, request: request.params.request }));
  r.post('/v1/requests/approvals', {
    config: { access: { scope: 'write', permission: 'self' } },
    schema: { tags: ['requests'], summary: 'Approve several requests; each is decided alone, under the same rules as one approval',
      body: BulkApprove, response: { 200: BulkResult, ...problems } },
  }, async (request) => {
    const { results } = await approveRequests(ctx(request), request.body);
    return { results: results.map(({ refusal, ...item }) => ({ ...item, problem: refusal && problemOf(refusal) })) };
  });
};
