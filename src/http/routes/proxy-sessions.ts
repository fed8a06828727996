import { z } from 'zod';
import { pageProxySessions } from '../../operations/list-proxy-sessions.js';
import { showProxySession, Statement as StatementRecord } from '../../operations/show-proxy-session.js';
import { contextOf } from '../access.js';
import { cursorQuery, idParam, isoDate, limitQuery, optionalDate, page, problems, refQuery } from '../schemas.js';
import { typed, type RouteModule } from './route.js';

/** Sessions mediated by the access proxy (docs/sessions.md); not the web sign-in sessions of /v1/auth. */
export const SessionView = z.object({
  id: z.string(), protocol: z.string(), person: z.string(), grant: z.string(), system: z.string(), entitlement: z.string(),
  account: z.string().describe('the account in the target the proxy signed in as'),
  sharedAccount: z.boolean().describe('the account is a shared operational account (checked out): the session is the only record of who used it'),
  role: z.string(), clientAddress: z.string(),
  startedAt: isoDate, endedAt: optionalDate, endReason: z.string().nullable(), statements: z.number().nullable(),
  recordingSha256: z.string().nullable().describe('as stored on the session row'),
  auditedSha256: z.string().nullable().describe('as carried by the proxy_session.ended audit event'),
  verified: z.union([z.boolean(), z.literal('purged')]).nullable().describe('the stored statement lines hash to auditedSha256 '
    + '(false: the recording was changed or lost; purged: retention deleted the lines, the digest stays; null: the session is open)'),
  recordingPurgedAt: optionalDate.describe('when retention deleted the statement lines'),
});
const TimelineEntry = z.union([
  StatementRecord,
  z.object({ seq: z.number(), unreadable: z.string().describe('a stored line that is no longer a statement record, as stored') }),
]);
const ListQuery = z.object({
  grant: z.uuid('must be a grant id').optional(), identity: refQuery, system: refQuery, state: z.enum(['open', 'ended']).optional(),
  limit: limitQuery(500), cursor: cursorQuery,
}).strict();

export const proxySessionRoutes: RouteModule = (app, deps) => {
  const r = typed(app);
  const ctx = (request: Parameters<typeof contextOf>[0]) => contextOf(request, deps.store, deps.clock);
  r.get('/v1/proxy-sessions', {
    config: { access: { scope: 'read', permission: 'self' } },
    schema: { tags: ['sessions'], summary: 'Proxied sessions I may read (mine, of those I answer for, on systems I own; all for security and auditors), newest first',
      querystring: ListQuery, response: { 200: page(SessionView), ...problems } },
  }, async (request) => pageProxySessions(ctx(request), request.query));
  r.get('/v1/proxy-sessions/:session', {
    config: { access: { scope: 'read', permission: 'self' } },
    schema: { tags: ['sessions'], summary: 'One proxied session with its recording (statement timeline or asciicast), verified against the audit chain',
      params: idParam('session', 'proxy session id'), response: { 200: SessionView.extend({
        timeline: z.array(TimelineEntry).describe('PostgreSQL: the statements in order; empty for SSH'),
        asciicast: z.string().nullable().describe('SSH: the recording as an asciicast v2 file (its SHA-256 is auditedSha256); null for PostgreSQL, or once purged'),
      }), ...problems } },
  }, async (request) => showProxySession(ctx(request), { session: request.params.session }));
};
