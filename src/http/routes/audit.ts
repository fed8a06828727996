import { PassThrough } from 'node:stream';
import { z } from 'zod';
import { AUDIT_EVENT_TYPES } from '../../audit/event-types.js';
import { anchorFrom } from '../../audit/anchor.js';
import { labelAuditEvents } from '../../audit/labels.js';
import { unsignedGraceMs } from '../../config.js';
import { loadSigningKey, loadTrustedKeys } from '../../audit/signing-key.js';
import { TenureError } from '../../domain/errors.js';
import { exportAudit } from '../../operations/export-audit.js';
import { searchAudit } from '../../operations/search-audit.js';
import { verifyAudit } from '../../operations/verify-audit.js';
import { writeAuditCheckpoint } from '../../operations/write-checkpoint.js';
import { contextOf } from '../access.js';
import { instant } from '../../operations/input.js';
import { limitQuery, problems, refQuery } from '../schemas.js';
import { typed, type RouteModule } from './route.js';

const Filters = z.object({
  identity: refQuery, system: refQuery, action: z.enum(AUDIT_EVENT_TYPES).optional(), actor: refQuery,
  from: instant.optional().describe('ISO 8601'), to: instant.optional().describe('ISO 8601'),
  cursor: z.string().regex(/^\d{1,15}$/, 'must be the nextCursor of the previous page').optional(),
}).strict();
const Event = z.object({
  seq: z.number(), hash: z.string(), v: z.number(), at: z.string(), action: z.string(),
  actor: z.object({
    id: z.string().nullable(), channel: z.string(), osUser: z.string().optional(), tokenId: z.string().optional(),
    issuedBy: z.string().optional().describe('the identity that minted the token the actor used, when that was someone else'),
    label: z.string().optional().describe('how people name the actor now (handle and name); not part of the hashed event'),
  }),
  subject: z.object({
    type: z.string(), id: z.string(),
    label: z.string().optional().describe('how people name the subject now (a person, "carl · payments/read"); not part of the hashed event'),
  }), identityId: z.string().nullable(), systemId: z.string().nullable(),
  before: z.unknown(), after: z.unknown(), reason: z.string().nullable(), ticket: z.string().nullable(), data: z.unknown(),
});
const Verification = z.object({
  ok: z.boolean(), events: z.number(), firstBadSeq: z.number().nullable(), reason: z.string().nullable(), checkpoints: z.number(),
  anchoredSeq: z.number().nullable().describe('the newest checkpoint in the anchor outside the database'),
  restores: z.array(z.object({
    seq: z.number().describe('the event that acknowledged the restore'),
    forkSeq: z.number().describe('the newest event the restored chain and the anchor agreed on'), forkHash: z.string().nullable(),
    supersededSeq: z.number().describe('the newest anchored event given up'), supersededHash: z.string(), anchorFile: z.string(),
  })).describe('restores acknowledged with a checkpoint signed into the anchor (tenure audit acknowledge-restore)'),
});
const Checkpoint = z.object({
  written: z.boolean(), seq: z.number().nullable(), hash: z.string().nullable(), signedAt: z.string().nullable(), keyId: z.string().nullable(),
  anchored: z.string().nullable(), witnessProblem: z.string().nullable(),
});

const filtersOf = (q: z.infer<typeof Filters>) => ({
  identity: q.identity, system: q.system, action: q.action, actor: q.actor, from: q.from, to: q.to,
  ...(q.cursor ? { afterSeq: Number(q.cursor) } : {}),
});

export const auditRoutes: RouteModule = (app, deps) => {
  const r = typed(app);
  const ctx = (request: Parameters<typeof contextOf>[0]) => contextOf(request, deps.store, deps.clock);
  /** Keys and the anchor live on the server's disk; a server started without them can neither sign nor verify. */
  const auditSource = () => {
    if (!deps.auditKeys) throw new TenureError('audit.signing_key_missing', 'this server was started without audit keys or an anchor: it can neither sign nor verify');
    return deps.auditKeys.source;
  };
  r.get('/v1/audit/events', {
    config: { access: { scope: 'read', permission: 'audit.read' } },
    schema: { tags: ['audit'], summary: 'Search the audit log, oldest first (newest first with order=desc)', querystring: Filters.extend({
      limit: limitQuery(5000), order: z.enum(['asc', 'desc']).optional().describe('asc (default): oldest first; desc: newest first'),
    }), response: { 200: z.object({ items: z.array(Event), nextCursor: z.string().nullable() }), ...problems } },
  }, async (request) => {
    const { order, limit, ...query } = request.query;
    const filters = filtersOf(query);
    const newestFirst = order === 'desc';
    // The cursor is the last seq of the previous page: newest first, the next page lies below it.
    const paging = newestFirst && filters.afterSeq !== undefined ? { afterSeq: undefined, beforeSeq: filters.afterSeq } : {};
    const context = ctx(request);
    const result = await searchAudit(context, { ...filters, ...paging, newestFirst, ...(limit ? { limit } : {}) });
    const labels = await labelAuditEvents(deps.store.db, result.events);
    const items = result.events.map((e) => ({
      ...e, actor: { ...e.actor, label: labels.actor(e) }, subject: { ...e.subject, label: labels.subject(e) },
    }));
    return { items, nextCursor: result.nextAfterSeq === null ? null : String(result.nextAfterSeq) };
  });
  r.get('/v1/audit/export', {
    config: { access: { scope: 'read', permission: 'audit.read' } },
    schema: { tags: ['audit'], summary: 'Matching events as JSON Lines, with their chain hashes (an evidence pack)', querystring: Filters,
      response: { 200: z.string().describe('application/x-ndjson'), ...problems } },
  }, async (request, reply) => {
    const out = new PassThrough();
    const context = ctx(request);
    // Checked before streaming starts, so a refusal is still a problem response and not a cut stream.
    await searchAudit(context, { ...filtersOf(request.query), limit: 1 });
    void exportAudit(context, filtersOf(request.query), out).then(() => out.end(), (error: unknown) => out.destroy(error as Error));
    // A stream bypasses the serializer; the schema above documents the media type only.
    return reply.type('application/x-ndjson').send(out as unknown as string);
  });
  r.post('/v1/audit/verify', {
    config: { access: { scope: 'read', permission: 'audit.read' } },
    schema: { tags: ['audit'], summary: 'Verify the whole hash chain, the signed checkpoints and their anchor outside the database',
      querystring: z.object({
        allowUnsigned: z.enum(['true', 'false']).optional().describe('accept events no checkpoint covers yet'),
        strict: z.enum(['true', 'false']).optional().describe('a log that no checkpoint covers fails, whatever allowUnsigned says'),
      }).strict(),
      response: { 200: Verification, ...problems } },
  }, async (request) => {
    const source = auditSource();
    return verifyAudit(ctx(request), {
      trustedKeys: loadTrustedKeys(source), anchor: anchorFrom(source), unsignedGraceMs: unsignedGraceMs(source.env),
      allowUnsigned: request.query.allowUnsigned === 'true', strict: request.query.strict === 'true',
    });
  });
  r.post('/v1/audit/checkpoints', {
    config: { access: { scope: 'write', permission: 'audit.checkpoint' } },
    schema: { tags: ['audit'], summary: 'Sign the current head of the chain now', response: { 200: Checkpoint, ...problems } },
  }, async (request) => {
    const source = auditSource();
    return writeAuditCheckpoint(ctx(request), loadSigningKey({ ...source, create: deps.auditKeys!.createSigningKey }), anchorFrom(source));
  });
};
