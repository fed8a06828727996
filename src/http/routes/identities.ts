import { z } from 'zod';
import { IDENTITY_KINDS, IDENTITY_STATUSES } from '../../domain/model.js';
import { changeIdentityOperator, Input as OperatorInput } from '../../operations/change-identity-operator.js';
import { changeIdentityStatus, Input as StatusInput } from '../../operations/change-identity-status.js';
import { createIdentity, Input as CreateInput } from '../../operations/create-identity.js';
import { createVendor, Input as VendorInput } from '../../operations/create-vendor.js';
import { pageIdentities, showIdentity } from '../../operations/list-identities.js';
import { contextOf } from '../access.js';
import { cursorQuery, idParam, isoDate, limitQuery, page, problems } from '../schemas.js';
import { typed, type RouteModule } from './route.js';

const IdentityView = z.object({
  id: z.string(), handle: z.string(), displayName: z.string(), kind: z.string().describe(IDENTITY_KINDS.join(' | ')),
  status: z.string().describe(IDENTITY_STATUSES.join(' | ')),
  sponsor: z.string().nullable().optional(), manager: z.string().nullable().optional(), owner: z.string().nullable().optional(),
  email: z.string().nullable(),
});

const ListQuery = z.object({
  kind: z.enum(IDENTITY_KINDS).optional(), status: z.enum(IDENTITY_STATUSES).optional(), limit: limitQuery(5000), cursor: cursorQuery,
}).strict();

const OperatorChanged = z.object({
  id: z.string(), handle: z.string(),
  operator: z.string().nullable().describe('the vendor that operates the account now; null: run in-house'),
  previousOperator: z.string().nullable(),
  changed: z.boolean().describe('false when the account was already operated so: nothing was written'),
});

const Vendor = z.object({ id: z.string(), name: z.string(), kind: z.string(), contractEnd: isoDate });

export const identityRoutes: RouteModule = (app, deps) => {
  const r = typed(app);
  const ctx = (request: Parameters<typeof contextOf>[0]) => contextOf(request, deps.store, deps.clock);
  r.get('/v1/identities', {
    config: { access: { scope: 'read', permission: 'identity.read_all' } },
    schema: { tags: ['identities'], summary: 'List identities by handle', querystring: ListQuery, response: { 200: page(IdentityView), ...problems } },
  }, async (request) => pageIdentities(ctx(request), request.query));
  r.get('/v1/identities/:identity', {
    config: { access: { scope: 'read', permission: 'self' } },
    schema: { tags: ['identities'], summary: 'One directory entry (any active identity may look it up)', params: idParam('identity', 'id or handle'),
      response: { 200: IdentityView, ...problems } },
  }, async (request) => showIdentity(ctx(request), request.params.identity));
  r.post('/v1/identities', {
    config: { access: { scope: 'write', permission: 'identity.create' } },
    schema: { tags: ['identities'], summary: 'Create an identity', body: CreateInput, response: { 201: IdentityView, ...problems } },
  }, async (request, reply) => reply.code(201).send(await createIdentity(ctx(request), request.body)));
  r.post('/v1/identities/:identity/status', {
    config: { access: { scope: 'write', permission: 'identity.change_status' } },
    schema: { tags: ['identities'], summary: 'Activate, suspend or terminate (suspend and terminate revoke every grant at once)',
      params: idParam('identity', 'id or handle'), body: StatusInput.omit({ identity: true }),
      response: { 200: z.object({ revoked: z.number().int(), cancelled: z.number().int() }), ...problems } },
  }, async (request) => changeIdentityStatus(ctx(request), { ...request.body, identity: request.params.identity }));
  // Access is the use case's: nobody moves their own account, which it refuses before the permission (IAM) is even asked.
  r.post('/v1/identities/:identity/operator', {
    config: { access: { scope: 'write', permission: 'self' } },
    schema: { tags: ['identities'], summary: "Move a service account to another vendor's operation, or in-house (IAM; never the account's owner)",
      params: idParam('identity', 'id or handle'), body: OperatorInput.omit({ identity: true }), response: { 200: OperatorChanged, ...problems } },
  }, async (request) => changeIdentityOperator(ctx(request), { ...request.body, identity: request.params.identity }));
  r.post('/v1/vendors', {
    config: { access: { scope: 'write', permission: 'vendor.create' } },
    schema: { tags: ['engagements'], summary: 'Register a vendor', body: VendorInput, response: { 201: Vendor, ...problems } },
  }, async (request, reply) => reply.code(201).send(await createVendor(ctx(request), request.body)));
};
