import { z } from 'zod';
import { JOB_ACTIONS, JOB_STATES } from '../../domain/provisioning.js';
import { FINDING_KINDS, FINDING_STATUSES } from '../../domain/findings.js';
import { acceptFinding, Input as AcceptFindingInput } from '../../operations/accept-finding.js';
import { confirmProvisioningTask, Input as ConfirmInput } from '../../operations/confirm-provisioning-task.js';
import { pageFindings } from '../../operations/list-findings.js';
import { pageProvisioningJobs } from '../../operations/list-provisioning-jobs.js';
import { Input as ReconcileInput, reconcileSystems } from '../../operations/reconcile-system.js';
import { releaseHeldRevocations, Input as ReleaseInput } from '../../operations/release-held-revocations.js';
import { resolveFinding, Input as ResolveFindingInput } from '../../operations/resolve-finding.js';
import { resolveProvisioningJob, Input as ResolveJobInput } from '../../operations/resolve-provisioning-job.js';
import { contextOf } from '../access.js';
import { cursorQuery, idParam, isoDate, limitQuery, optionalDate, page, problems, refQuery } from '../schemas.js';
import { typed, type RouteModule } from './route.js';

const JobView = z.object({
  id: z.string(), seq: z.number().int(), grantId: z.string(), identity: z.string(), system: z.string(), entitlement: z.string(),
  action: z.enum(JOB_ACTIONS), state: z.enum(JOB_STATES), attempts: z.number().int(), nextAttemptAt: isoDate,
  lastError: z.string().nullable(), dueAt: optionalDate, outcome: z.unknown().describe('what the connector did and the read-back, or who confirmed'),
  createdAt: isoDate, finishedAt: optionalDate,
});
const kinds = Object.keys(FINDING_KINDS) as [keyof typeof FINDING_KINDS, ...(keyof typeof FINDING_KINDS)[]];
const FindingView = z.object({
  id: z.string(), kind: z.enum(kinds), severity: z.string(), status: z.enum(FINDING_STATUSES), system: z.string().nullable(), acceptedUntil: optionalDate,
  summary: z.string(), evidence: z.unknown(), identity: z.string().nullable(), grantId: z.string().nullable(), jobId: z.string().nullable(),
  owner: z.string().nullable(), dueAt: optionalDate, openedAt: isoDate, lastSeenAt: isoDate, resolvedAt: optionalDate, resolution: z.string().nullable(),
  frameworks: z.object({ owaspNhi: z.array(z.string()), nistCsf: z.array(z.string()) })
    .describe('the OWASP NHI Top 10 (2025) risks and NIST CSF 2.0 outcomes this finding is evidence for'),
});
const ReconcileView = z.object({
  system: z.string(), accounts: z.number().int(), liveGrants: z.number().int(), drift: z.record(z.string(), z.number().int()),
  revoked: z.number().int(), removalsFailed: z.number().int(), brakeHeld: z.boolean(), findingsOpened: z.number().int(), findingsClosed: z.number().int(),
  connectorUnsafe: z.array(z.string()).describe('what the connector\'s own login can do beyond its job (a connector_unsafe finding); empty when nothing'),
});
const JobsQuery = z.object({
  state: z.enum([...JOB_STATES, 'open']).optional(), system: refQuery, grant: z.uuid('must be a grant id').optional(),
  limit: limitQuery(5000), cursor: cursorQuery,
}).strict();
const FindingsQuery = z.object({
  status: z.enum(FINDING_STATUSES).optional(), kind: z.enum(kinds).optional(), system: refQuery,
  limit: limitQuery(5000), cursor: cursorQuery,
}).strict();

/** Provisioning jobs and manual tasks, the brake, findings and reconciliation; see docs/connectors.md. */
export const provisioningRoutes: RouteModule = (app, deps) => {
  const r = typed(app);
  const ctx = (request: Parameters<typeof contextOf>[0]) => contextOf(request, deps.store, deps.clock);
  r.get('/v1/provisioning/jobs', {
    config: { access: { scope: 'read', permission: 'self' } },
    schema: { tags: ['provisioning'], summary: 'Provisioning jobs, newest first (all for IAM, security, auditors; else those of systems I own)',
      querystring: JobsQuery, response: { 200: page(JobView), ...problems } },
  }, async (request) => pageProvisioningJobs(ctx(request), request.query));
  r.post('/v1/provisioning/jobs/:job/confirm', {
    config: { access: { scope: 'write', permission: 'self' } },
    schema: { tags: ['provisioning'], summary: 'Confirm a manual task is done (the system\'s technical owner, IAM or security)',
      params: idParam('job', 'provisioning job id'), body: ConfirmInput.omit({ job: true }),
      response: { 200: z.object({ id: z.string(), state: z.string(), grantProvisioningState: z.string() }), ...problems } },
  }, async (request) => confirmProvisioningTask(ctx(request), { ...request.body, job: request.params.job }));
  r.post('/v1/provisioning/jobs/:job/resolve', {
    config: { access: { scope: 'write', permission: 'provisioning.operate' } },
    schema: { tags: ['provisioning'], summary: 'Stop a job handled out of band, with a note; its failure finding closes',
      params: idParam('job', 'provisioning job id'), body: ResolveJobInput.omit({ job: true }),
      response: { 200: z.object({ id: z.string(), state: z.string() }), ...problems } },
  }, async (request) => resolveProvisioningJob(ctx(request), { ...request.body, job: request.params.job }));
  r.post('/v1/provisioning/release', {
    config: { access: { scope: 'write', permission: 'provisioning.release_brake' } },
    schema: { tags: ['provisioning'], summary: 'Security lets the revocations held by the mass-revocation brake on a system go ahead',
      body: ReleaseInput, response: { 200: z.object({ system: z.string(), released: z.number().int() }), ...problems } },
  }, async (request) => releaseHeldRevocations(ctx(request), request.body));
  r.post('/v1/reconcile', {
    config: { access: { scope: 'write', permission: 'provisioning.operate' } },
    schema: { tags: ['provisioning'], summary: 'Compare a system (or every system with a connector) with the grants and record the drift',
      body: ReconcileInput, response: { 200: z.object({ items: z.array(ReconcileView) }), ...problems } },
  }, async (request) => ({ items: await reconcileSystems(ctx(request), request.body) }));
  r.get('/v1/findings', {
    config: { access: { scope: 'read', permission: 'self' } },
    schema: { tags: ['provisioning'], summary: 'Findings, newest first (all for IAM, security, auditors; else mine and those of systems I own)',
      querystring: FindingsQuery, response: { 200: page(FindingView), ...problems } },
  }, async (request) => pageFindings(ctx(request), request.query));
  r.post('/v1/findings/:finding/accept', {
    config: { access: { scope: 'write', permission: 'finding.accept' } },
    schema: { tags: ['provisioning'], summary: 'Security accepts a finding as an exception until a date; then it is open again',
      params: idParam('finding', 'finding id'), body: AcceptFindingInput.omit({ finding: true }),
      response: { 200: z.object({ id: z.string(), status: z.literal('accepted'), acceptedUntil: isoDate }), ...problems } },
  }, async (request) => acceptFinding(ctx(request), { ...request.body, finding: request.params.finding }));
  r.post('/v1/findings/:finding/resolve', {
    config: { access: { scope: 'write', permission: 'finding.resolve' } },
    schema: { tags: ['provisioning'], summary: 'Close a finding with what was done (drift reopens if reconciliation sees it again)',
      params: idParam('finding', 'finding id'), body: ResolveFindingInput.omit({ finding: true }),
      response: { 200: z.object({ id: z.string(), status: z.string(), reopensIfSeenAgain: z.boolean() }), ...problems } },
  }, async (request) => resolveFinding(ctx(request), { ...request.body, finding: request.params.finding }));
};
