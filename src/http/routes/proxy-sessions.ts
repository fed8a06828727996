import { PassThrough } from 'node:stream';
import { z } from 'zod';
import { pageProxySessions } from '../../operations/list-proxy-sessions.js';
import { listProxySessionTimeline, Statement as StatementRecord } from '../../operations/list-proxy-session-timeline.js';
import { openProxySessionRecording, writeProxySessionRecording } from '../../operations/read-proxy-session-recording.js';
import { showProxySession } from '../../operations/show-proxy-session.js';
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
        recordingBytes: z.number().nullable().describe('the size of the stored recording as downloaded (GET …/recording); null once purged'),
        timeline: z.array(TimelineEntry).describe('PostgreSQL: the first statements in order (a page); empty for SSH'),
        timelineNextCursor: z.string().nullable().describe('more statements follow: pass as cursor to GET /v1/proxy-sessions/{session}/timeline; null when none'),
        asciicast: z.string().nullable().describe('SSH: the recording as an asciicast v2 file (its SHA-256 is auditedSha256) when at most 4 MiB, '
          + 'else download it (GET …/recording); null for PostgreSQL, or once purged'),
      }), ...problems } },
  }, async (request) => showProxySession(ctx(request), { session: request.params.session }));
  r.get('/v1/proxy-sessions/:session/timeline', {
    config: { access: { scope: 'read', permission: 'self' } },
    schema: { tags: ['sessions'], summary: 'A PostgreSQL session\'s statements in order, a page at a time (empty for SSH)',
      params: idParam('session', 'proxy session id'), querystring: z.object({ limit: limitQuery(2000), cursor: cursorQuery }).strict(),
      response: { 200: page(TimelineEntry), ...problems } },
  }, async (request) => listProxySessionTimeline(ctx(request), { session: request.params.session, ...request.query }));
  r.get('/v1/proxy-sessions/:session/recording', {
    config: { access: { scope: 'read', permission: 'self' } },
    schema: { tags: ['sessions'], summary: 'The whole stored recording as a file (SSH: asciicast v2; PostgreSQL: JSON Lines of statements), '
      + 'byte for byte what auditedSha256 covers', params: idParam('session', 'proxy session id'),
    response: { 200: z.string().describe('application/x-asciicast or application/x-ndjson'), ...problems } },
  }, async (request, reply) => {
    const context = ctx(request);
    // Checked before streaming starts, so a refusal is still a problem response and not a cut stream.
    const recording = await openProxySessionRecording(context, { session: request.params.session });
    const out = new PassThrough();
    void writeProxySessionRecording(context, recording.session, out).then(() => out.end(), (error: unknown) => out.destroy(error as Error));
    // A stream bypasses the serializer; the schema above documents the media type only.
    return reply.type(recording.mediaType).header('content-disposition', `attachment; filename="session-${recording.session}.${recording.extension}"`)
      .send(out as unknown as string);
  });
};
