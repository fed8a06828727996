import { z } from 'zod';
import { GRANT_STATUSES } from '../../domain/model.js';
import { pageGrants } from '../../operations/list-grants.js';
import { issueGrantCredential } from '../../operations/issue-grant-credential.js';
import { Input as RevokeInput, revokeGrant } from '../../operations/revoke-grant.js';
import { runPass } from '../../jobs/pass.js';
import { contextOf } from '../access.js';
import { cursorQuery, idParam, isoDate, limitQuery, optionalDate, page, problems, refQuery } from '../schemas.js';
import { typed, type RouteModule } from './route.js';

const GrantView = z.object({
  id: z.string(), identity: z.string().optional(), entitlement: z.string(), tier: z.string(), status: z.string(), origin: z.string(),
  startsAt: isoDate, endsAt: optionalDate, provisioningState: z.string(), requestId: z.string().nullable(),
  exceptionId: z.string().nullable(), endedAt: optionalDate, endReason: z.string().nullable(), createdAt: isoDate,
  takesCredential: z.boolean().describe('the holder may take a password Tenure mints for the target (POST /v1/grants/{id}/credential)'),
  credentialIssuedAt: optionalDate.describe('when the holder last took one (never the password)'),
  proxySessions: z.number().int().describe('sessions through the access proxy under this grant (GET /v1/proxy-sessions?grant=)'),
});
const IssuedCredential = z.object({
  grant: z.string(), system: z.string(), account: z.string().describe('the account to sign in as'),
  target: z.string().describe('host:port/database (never a credential)'), validUntil: optionalDate.describe('the target refuses the password after this'),
  password: z.string().nullable().describe('shown once, never again: Tenure keeps no copy (null on an Idempotency-Key replay)'),
  secretShownOnce: z.boolean().optional().describe('true on an Idempotency-Key replay: the password was in the first answer only'),
  issuedAt: isoDate,
});
const ListQuery = z.object({
  identity: refQuery, entitlement: refQuery,
  status: z.enum([...GRANT_STATUSES, 'live']).optional(), limit: limitQuery(5000), cursor: cursorQuery,
}).strict();
const counts = <K extends string>(...keys: K[]) => z.object(Object.fromEntries(keys.map((k) => [k, z.number()])) as Record<K, z.ZodNumber>);
const failures = (key: 'key' | 'system' | 'target') => z.array(z.object({ [key]: z.string(), error: z.string() }));
/** One whole worker pass: the lifecycle counters at the top level, as before, and every other step beside them. */
const Pass = counts('grantsActivated', 'grantsExpired', 'requestsExpired', 'engagementsEnded', 'vendorsEnded', 'checkOutsGiven').extend({
  hr: counts('due', 'endDates').extend({ ownership: counts('resolved', 'suspended') }),
  provisioning: counts('superseded', 'held', 'done', 'failed', 'tasksOpened', 'overdueTasks'),
  findingsReopened: z.number(), credentialFindings: counts('opened', 'closed'), sodFindings: counts('opened', 'closed'), breakGlassEscalated: z.number(), approvalsEscalated: z.number(),
  recordingsPurged: z.number().describe('proxied sessions whose statement lines retention deleted'),
  reviews: z.object({
    closed: counts('closed', 'defaultedRevoke', 'defaultedKeep', 'voided', 'renewalsLapsed'),
    scheduled: z.object({ opened: z.array(z.object({ key: z.string(), campaignId: z.string().nullable(), items: z.number(), unassigned: z.array(z.string()) })), errors: failures('key') }),
  }),
  reconciliation: z.object({
    reconciled: z.array(counts('accounts', 'liveGrants', 'revoked', 'removalsFailed', 'findingsOpened', 'findingsClosed')
      .extend({ system: z.string(), drift: z.record(z.string(), z.number()), brakeHeld: z.boolean(), connectorUnsafe: z.array(z.string()) })),
    errors: failures('system'),
  }),
  webhooks: counts('notices', 'dispatched', 'delivered', 'failed'),
  mail: counts('written', 'sent', 'failed'),
  siem: z.object({ sent: z.number(), errors: failures('target') }),
  housekeeping: counts('idempotencyKeys', 'signIns', 'rateWindows', 'webhookSecrets'),
});

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
  r.post('/v1/grants/:grant/credential', {
    config: { access: { scope: 'write', permission: 'self' }, shownOnce: ['password'] },
    schema: { tags: ['grants'], summary: 'Take a fresh password for the target of my live, provisioned grant (shown once; replaces any earlier one)',
      params: idParam('grant', 'grant id'),
      response: { 201: IssuedCredential, ...problems } },
  }, async (request, reply) => reply.code(201).send(await issueGrantCredential(ctx(request), { grant: request.params.grant })));
  r.post('/v1/lifecycle/run', {
    config: { access: { scope: 'write', permission: 'worker.run' } },
    schema: { tags: ['grants'], summary: 'Run one whole worker pass now (lifecycle, HR, provisioning, reviews, reconciliation, webhooks, mail, SIEM stream, housekeeping)',
      response: { 200: Pass, ...problems } },
  }, async (request) => runPass(ctx(request), deps.pass?.() ?? { webhooks: { key: deps.webhookKey?.() } }));
};
