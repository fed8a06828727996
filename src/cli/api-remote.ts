import { once } from 'node:events';
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { ERRORS, TenureError, type ErrorCode } from '../domain/errors.js';
import { allPages, type Page, type TenureApi } from './api.js';

type Method = 'GET' | 'POST' | 'PUT' | 'DELETE';
type Query = Record<string, unknown>;

const TOKEN_HINT = 'check TENURE_TOKEN: it must hold a live token of an active identity (create one with tenure token create)';

/** Query strings carry text: undefined is left out, dates go as ISO 8601. */
const queryString = (query: Query = {}): string => {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (value === undefined || value === null) continue;
    params.set(key, value instanceof Date ? value.toISOString() : String(value));
  }
  const text = params.toString();
  return text ? `?${text}` : '';
};

const segment = (id: string) => encodeURIComponent(id);

/**
 * A problem+json answer becomes the TenureError it was on the server, so the CLI prints it and
 * exits exactly as in local mode. Credential refusals also say which variable to check.
 */
const errorOf = async (response: Response, server: string): Promise<TenureError> => {
  const type = response.headers.get('content-type') ?? '';
  if (!type.includes('json')) {
    return new TenureError('internal', `${server} answered ${response.status} ${response.statusText}: is it a Tenure server?`);
  }
  const problem = await response.json() as { code?: string; detail?: string; field?: string; errors?: unknown };
  const code = problem.code && problem.code in ERRORS ? problem.code as ErrorCode : 'internal';
  const detail = problem.detail ?? `${server} answered ${response.status}`;
  const options = { ...(problem.field ? { field: problem.field } : {}), ...(problem.errors ? { details: problem.errors } : {}) };
  if (code === 'auth.invalid_credentials' || code === 'auth.required') {
    return new TenureError(code, `${server} refused the token (${detail}); ${TOKEN_HINT}`, options);
  }
  if (code === 'auth.scope_missing') return new TenureError(code, `${detail}: TENURE_TOKEN lacks it`, options);
  return new TenureError(code, detail, options);
};

/** The failure under fetch's own "fetch failed": connection refused, unknown host, reset. */
const reasonOf = (error: unknown): string => {
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  return cause?.code ?? cause?.message ?? (error instanceof Error ? error.message : String(error));
};

/** A policy file's tests beside it (`x.tests.yaml`), when there are any: sent with it, as the server cannot read them. */
const siblingTests = async (path: string): Promise<string[]> => {
  const tests = path.replace(/\.ya?ml$/i, '.tests.yaml');
  return tests !== path && (await stat(tests).catch(() => undefined))?.isFile() ? [tests] : [];
};

/** A policy file or folder read here, as the loader reads it locally: the folder's .yaml/.yml files (tests among them), sorted. */
const readPolicyFiles = async (path: string): Promise<{ name: string; content: string }[]> => {
  let names: string[];
  try {
    const info = await stat(path);
    names = info.isDirectory()
      ? (await readdir(path, { withFileTypes: true })).filter((e) => e.isFile() && /\.ya?ml$/i.test(e.name)).map((e) => join(path, e.name)).sort()
      : [path, ...await siblingTests(path)];
  } catch {
    throw new TenureError('policy.invalid', `${path}: no such file or folder`, { field: 'path' });
  }
  if (names.length === 0) throw new TenureError('policy.invalid', `${path}: the folder has no .yaml or .yml files`, { field: 'path' });
  return Promise.all(names.map(async (name) => ({ name, content: await readFile(name, 'utf8') })));
};

/**
 * The HTTP API of a running server, acting as the owner of `token`. Each operation is one route;
 * answers are JSON with dates as ISO text. The token goes in the Authorization header only and is
 * never part of a message.
 */
export const remoteApi = (server: string, token: string): TenureApi => {
  const send = async (method: Method, path: string, options: { query?: Query; body?: unknown } = {}): Promise<Response> => {
    const url = `${server}${path}${queryString(options.query)}`;
    const headers: Record<string, string> = { authorization: `Bearer ${token}`, accept: 'application/json, application/problem+json, application/x-ndjson' };
    if (options.body !== undefined) headers['content-type'] = 'application/json';
    let response: Response;
    try {
      response = await fetch(url, { method, headers, ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) }) });
    } catch (error) {
      throw new TenureError('server.unreachable', `cannot reach the Tenure server at ${server} (${reasonOf(error)})`);
    }
    if (!response.ok) throw await errorOf(response, server);
    return response;
  };
  /** A streamed answer (JSON Lines, a recording) copied to `out` as it comes, waiting for `out` to drain. */
  const copyBody = async (response: Response, out: NodeJS.WritableStream): Promise<void> => {
    if (!response.body) return;
    try {
      for await (const chunk of response.body) if (!out.write(chunk)) await once(out, 'drain');
    } catch (error) {
      throw new TenureError('internal', `the download from ${server} was cut short (${reasonOf(error)})`);
    }
  };
  // The answers are typed by the interface; the server's response schemas are what make them so.
  const call = async <T>(method: Method, path: string, options: { query?: Query; body?: unknown } = {}): Promise<T> =>
    (await send(method, path, options)).json() as Promise<T>;
  const list = <T>(path: string, query: Query = {}): Promise<T[]> =>
    allPages((cursor) => call<Page<T>>('GET', path, { query: { ...query, cursor } }));
  const policy = async <T>(verb: string, path: string, query?: Record<string, string | undefined>): Promise<T> =>
    call<T>('POST', `/v1/policy/${verb}`, { body: { files: await readPolicyFiles(path) }, ...(query ? { query } : {}) });
  const auditQuery = ({ afterSeq, ...filters }: Query & { afterSeq?: number | undefined }) => ({ ...filters, cursor: afterSeq });

  return {
    createIdentity: (input) => call('POST', '/v1/identities', { body: input }),
    listIdentities: () => list('/v1/identities'),
    showIdentity: (ref) => call('GET', `/v1/identities/${segment(ref)}`),
    changeIdentityStatus: ({ identity, ...body }) => call('POST', `/v1/identities/${segment(identity)}/status`, { body }),
    changeIdentityOperator: ({ identity, ...body }) => call('POST', `/v1/identities/${segment(identity)}/operator`, { body }),
    setMailDelivery: ({ identity, ...body }) => call('PUT', identity ? `/v1/identities/${segment(identity)}/notifications` : '/v1/me/notifications', { body }),
    handles: async (ids) => {
      const unique = [...new Set(ids.filter(Boolean))];
      const found = await Promise.all(unique.map((id) =>
        call<{ handle: string }>('GET', `/v1/identities/${segment(id)}`).then((i) => [id, i.handle] as const, () => undefined)));
      return new Map(found.filter((entry) => entry !== undefined));
    },
    createVendor: (input) => call('POST', '/v1/vendors', { body: input }),
    listVendors: () => list('/v1/vendors'),
    showVendor: (ref) => call('GET', `/v1/vendors/${segment(ref)}`),
    changeVendorEnd: ({ vendor, ...body }) => call('POST', `/v1/vendors/${segment(vendor)}/contract-end`, { body }),
    buildVendorEvidence: ({ vendor, from, to }) => call('GET', `/v1/vendors/${segment(vendor)}/evidence`, { query: { from, to } }),

    createEngagement: (input) => call('POST', '/v1/engagements', { body: input }),
    listEngagements: (input) => list('/v1/engagements', input),
    showEngagement: (id) => call('GET', `/v1/engagements/${segment(id)}`),
    changeEngagementEnd: ({ engagement, ...body }) => call('POST', `/v1/engagements/${segment(engagement)}/end-date`, { body }),
    endEngagement: ({ engagement, ...body }) => call('POST', `/v1/engagements/${segment(engagement)}/end`, { body }),

    createRequest: (input) => call('POST', '/v1/requests', { body: input }),
    listRequests: (input) => list('/v1/requests', input),
    showRequest: (id) => call('GET', `/v1/requests/${segment(id)}`),
    cancelRequest: ({ request, ...body }) => call('POST', `/v1/requests/${segment(request)}/cancel`, { body }),
    approveRequest: ({ request, ...body }) => call('POST', `/v1/requests/${segment(request)}/approve`, { body }),
    approveRequests: (body) => call('POST', '/v1/requests/approvals', { body }),
    denyRequest: ({ request, ...body }) => call('POST', `/v1/requests/${segment(request)}/deny`, { body }),

    listGrants: (input) => list('/v1/grants', input),
    listProxySessions: (input) => list('/v1/proxy-sessions', input),
    showProxySession: ({ session }) => call('GET', `/v1/proxy-sessions/${segment(session)}`),
    listProxySessionTimeline: ({ session, ...query }) => list(`/v1/proxy-sessions/${segment(session)}/timeline`, query),
    downloadProxySessionRecording: async (session, out) => copyBody(await send('GET', `/v1/proxy-sessions/${segment(session)}/recording`), out),
    revokeGrant: ({ grant, ...body }) => call('POST', `/v1/grants/${segment(grant)}/revoke`, { body }),
    issueGrantCredential: ({ grant }) => call('POST', `/v1/grants/${segment(grant)}/credential`, {}),
    runPass: () => call('POST', '/v1/lifecycle/run'),

    createToken: (input) => call('POST', '/v1/tokens', { body: input }),
    listTokens: () => list('/v1/tokens'),
    revokeToken: (id) => call('DELETE', `/v1/tokens/${segment(id)}`),

    validatePolicy: (path) => policy('validate', path),
    planPolicy: (path, options) => policy('plan', path, { impact: options?.impact ? 'true' : undefined }),
    applyPolicy: (path) => policy('apply', path),
    testPolicy: (path) => policy('test', path),

    verifyAudit: (options) => call('POST', '/v1/audit/verify', { query: { allowUnsigned: options?.allowUnsigned ? 'true' : undefined, strict: options?.strict ? 'true' : undefined } }),
    searchAudit: async (input) => {
      const page = await call<Page<never>>('GET', '/v1/audit/events', { query: auditQuery(input) });
      return { events: page.items, nextAfterSeq: page.nextCursor ? Number(page.nextCursor) : null };
    },
    exportAudit: async (input, out) => copyBody(await send('GET', '/v1/audit/export', { query: auditQuery(input) }), out),
    writeCheckpoint: () => call('POST', '/v1/audit/checkpoints'),

    createWebhook: (input) => call('POST', '/v1/webhooks', { body: input }),
    listWebhooks: async (input) => (await call<{ items: never[] }>('GET', '/v1/webhooks',
      { query: { includeDeleted: input?.includeDeleted ? 'true' : undefined } })).items,
    deleteWebhook: (id) => call('DELETE', `/v1/webhooks/${segment(id)}`),
    listWebhookDeliveries: async (input) => (await call<{ items: never[] }>('GET', '/v1/webhooks/deliveries',
      { query: { subscription: input?.subscription, status: input?.status, limit: input?.limit } })).items,
    rekeyWebhooks: (input) => call('POST', '/v1/webhooks/rekey', { body: input }),
    rotateWebhookSecret: (webhook, body) => call('POST', `/v1/webhooks/${segment(webhook)}/rotate-secret`, { body }),

    listProvisioningJobs: (input) => list('/v1/provisioning/jobs', { state: input.state, system: input.system, grant: input.grant }),
    confirmProvisioningTask: ({ job, ...body }) => call('POST', `/v1/provisioning/jobs/${segment(job)}/confirm`, { body }),
    resolveProvisioningJob: ({ job, ...body }) => call('POST', `/v1/provisioning/jobs/${segment(job)}/resolve`, { body }),
    releaseHeldRevocations: (input) => call('POST', '/v1/provisioning/release', { body: input }),
    reconcile: async (input) => (await call<{ items: never[] }>('POST', '/v1/reconcile', { body: input })).items,
    listSystems: () => call('GET', '/v1/systems'),
    measureRevocationLag: (input) => call('GET', '/v1/stats/revocation-lag', { query: { days: input.days, system: input.system } }),
    listFindings: (input) => list('/v1/findings', { status: input.status, kind: input.kind, system: input.system }),
    resolveFinding: ({ finding, ...body }) => call('POST', `/v1/findings/${segment(finding)}/resolve`, { body }),
    acceptFinding: ({ finding, ...body }) => call('POST', `/v1/findings/${segment(finding)}/accept`, { body }),
    buildEvidencePack: ({ subject, ref }) => call('GET', `/v1/evidence/${segment(subject)}/${segment(ref)}`),
    listCredentials: async (input) => (await call<{ items: never[] }>('GET', '/v1/credentials',
      { query: { identity: input?.identity, status: input?.status } })).items,
    registerCredential: (input) => call('POST', '/v1/credentials', { body: input }),
    rotateCredential: ({ credential, ...body }) => call('POST', `/v1/credentials/${segment(credential)}/rotate`, { body }),
    retireCredential: ({ credential, ...body }) => call('POST', `/v1/credentials/${segment(credential)}/retire`, { body }),
    startBreakGlass: (input) => call('POST', '/v1/breakglass', { body: input }),
    importHrFile: (input) => call('POST', '/v1/hr/imports', { body: input }),
    listHrBatches: async (input) => (await call<{ items: never[] }>('GET', '/v1/hr/batches', { query: { status: input?.status } })).items,
    decideHrBatch: ({ batch, ...body }) => call('POST', `/v1/hr/batches/${segment(batch)}/decide`, { body }),
    reassignOwnership: ({ from, ...body }) => call('POST', `/v1/identities/${segment(from)}/reassign`, { body }),
    listBreakGlassReviews: async (input) => (await call<{ items: never[] }>('GET', '/v1/breakglass/reviews',
      { query: { status: input?.status, limit: input?.limit } })).items,
    reviewBreakGlass: ({ review, ...body }) => call('POST', `/v1/breakglass/reviews/${segment(review)}/decide`, { body }),
    createReviewCampaign: (input) => call('POST', '/v1/reviews/campaigns', { body: input }),
    listReviewItems: async (input) => (await call<{ items: never[] }>('GET', '/v1/reviews/items',
      { query: { view: input?.view, status: input?.status, campaign: input?.campaign, limit: input?.limit } })).items,
    decideReviewItem: ({ item, ...body }) => call('POST', `/v1/reviews/items/${segment(item)}/decide`, { body }),
    renewEngagement: ({ engagement, ...body }) => call('POST', `/v1/engagements/${segment(engagement)}/renew`, { body }),

    signSshCertificate: (input) => call('POST', '/v1/ssh/certificates', { body: input }),
    sshPrincipals: (input) => call('GET', '/v1/ssh/principals', { query: input }),
    sshAuthorizedKeys: (input) => call('POST', '/v1/ssh/authorized-keys', { body: input }),
  };
};
