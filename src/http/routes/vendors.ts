import { z } from 'zod';
import { changeVendorEnd, Input as ChangeInput } from '../../operations/change-vendor-end.js';
import { buildVendorEvidence, Input as EvidenceInput } from '../../operations/build-vendor-evidence.js';
import { pageVendors, showVendor } from '../../operations/show-vendor.js';
import { contextOf } from '../access.js';
import { cursorQuery, idParam, isoDate, limitQuery, optionalDate, page, problems } from '../schemas.js';
import { Pack } from './evidence.js';
import { typed, type RouteModule } from './route.js';

const VendorSummary = z.object({
  id: z.string(), name: z.string(), kind: z.string(), relationshipOwner: z.string(), contractEnd: isoDate,
  endAppliedAt: optionalDate.describe('when the contract end was carried out; null while it has not been'), createdAt: isoDate,
});
const VendorDetail = VendorSummary.extend({
  people: z.array(z.object({ handle: z.string(), kind: z.string(), status: z.string() })).describe('everyone engaged through the vendor, ever'),
  engagements: z.array(z.object({ id: z.string(), identity: z.string().nullable(), sponsor: z.string().nullable(), status: z.string(),
    purpose: z.string(), startsAt: isoDate, endsAt: isoDate, endedAt: optionalDate })),
  serviceAccounts: z.array(z.object({ handle: z.string(), status: z.string(), owner: z.string().nullable(),
    credentials: z.array(z.object({ id: z.string(), name: z.string(), kind: z.string(), status: z.string(), retirementDueAt: optionalDate })) }))
    .describe('the service accounts the vendor operates'),
  grants: z.array(z.object({ id: z.string(), identity: z.string().nullable(), entitlement: z.string(), system: z.string(), status: z.string(),
    provisioningState: z.string(), endsAt: optionalDate })).describe('live grants held through the vendor'),
  findings: z.array(z.object({ id: z.string(), kind: z.string(), severity: z.string(), status: z.string(), identity: z.string().nullable(),
    summary: z.string(), openedAt: isoDate })).describe('open (or accepted) findings about its people and service accounts'),
});
const Changed = z.object({
  id: z.string(), name: z.string(), contractEnd: isoDate, ended: z.boolean().describe('the new end has come: the contract was ended now'),
  engagementsEnded: z.number().int(), accountsSuspended: z.number().int(), grantsRevoked: z.number().int(), credentialsDue: z.number().int(),
  engagementsShortened: z.number().int(), grantsShortened: z.number().int(),
});
const VendorPack = Pack.extend({
  period: z.object({ from: isoDate, to: isoDate }), vendor: VendorDetail.describe('the vendor page as it is now'),
});
const ListQuery = z.object({ limit: limitQuery(5000), cursor: cursorQuery }).strict();

export const vendorRoutes: RouteModule = (app, deps) => {
  const r = typed(app);
  const ctx = (request: Parameters<typeof contextOf>[0]) => contextOf(request, deps.store, deps.clock);
  r.get('/v1/vendors', {
    config: { access: { scope: 'read', permission: 'self' } },
    schema: { tags: ['engagements'], summary: 'Vendors I may see (those I am relationship owner of; all for IAM, security, auditors), soonest contract end first',
      querystring: ListQuery, response: { 200: page(VendorSummary), ...problems } },
  }, async (request) => pageVendors(ctx(request), request.query));
  r.get('/v1/vendors/:vendor', {
    config: { access: { scope: 'read', permission: 'self' } },
    schema: { tags: ['engagements'], summary: 'One vendor: people, engagements, service accounts, live grants, open findings (404 unless its relationship owner or a reader of all)',
      params: idParam('vendor', 'vendor id or name'), response: { 200: VendorDetail, ...problems } },
  }, async (request) => showVendor(ctx(request), request.params.vendor));
  r.post('/v1/vendors/:vendor/contract-end', {
    config: { access: { scope: 'write', permission: 'self' } },
    schema: { tags: ['engagements'], summary: "Move the contract end (IAM or the relationship owner); earlier shortens later engagements, now or past ends the vendor's access",
      params: idParam('vendor', 'vendor id or name'), body: ChangeInput.omit({ vendor: true }), response: { 200: Changed, ...problems } },
  }, async (request) => changeVendorEnd(ctx(request), { ...request.body, vendor: request.params.vendor }));
  r.get('/v1/vendors/:vendor/evidence', {
    config: { access: { scope: 'read', permission: 'self' } },
    schema: { tags: ['audit'], summary: 'Evidence pack of a vendor: the page now, grants held in the period, every event of its people, service accounts and contract (IAM, security, auditors, the relationship owner)',
      params: idParam('vendor', 'vendor id or name'), querystring: EvidenceInput.omit({ vendor: true }).strict(), response: { 200: VendorPack, ...problems } },
  }, async (request) => buildVendorEvidence(ctx(request), { ...request.query, vendor: request.params.vendor }));
};
