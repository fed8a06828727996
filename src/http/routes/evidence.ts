import { z } from 'zod';
import { buildEvidencePack, Input as EvidenceInput } from '../../operations/build-evidence-pack.js';
import { contextOf } from '../access.js';
import { isoDate, optionalDate, problems } from '../schemas.js';
import { typed, type RouteModule } from './route.js';

const Event = z.object({
  seq: z.number().int(), hash: z.string(), at: z.string(), action: z.string(), actor: z.string(), channel: z.string(),
  issuedBy: z.string().nullable().describe('who minted the token the actor used, when someone else'),
  subject: z.object({ type: z.string(), id: z.string() }), identity: z.string().nullable(), before: z.unknown(), after: z.unknown(),
  reason: z.string().nullable(), ticket: z.string().nullable(),
});
export const Pack = z.object({
  title: z.string(), generatedAt: isoDate, generatedBy: z.string().nullable(),
  chainHead: z.object({ seq: z.number().int(), hash: z.string() }).nullable(),
  grants: z.array(z.record(z.string(), z.unknown())).describe('the grants with their provisioning state and the target\'s confirmation'),
  proxySessions: z.array(z.object({
    id: z.string(), person: z.string(), grant: z.string(), entitlement: z.string(), account: z.string(),
    sharedAccount: z.boolean().describe('a session on a shared operational account: listed first, since it is the only record of who used the account'),
    startedAt: isoDate, endedAt: optionalDate,
    endReason: z.string().nullable(), statements: z.number().nullable(),
    recordingSha256: z.string().nullable().describe('the digest the proxy_session.ended event carries'),
    verified: z.union([z.boolean(), z.literal('purged')]).nullable().describe('the stored recording hashes to it (purged: retention deleted it; null: still open)'),
  })).describe('sessions through the access proxy under these grants: those on a shared account first, then the others, each group oldest first'),
  sections: z.record(z.string(), z.array(Event)), timeline: z.array(Event),
});

/** Evidence packs for auditors; the CLI renders the same pack as HTML (`tenure evidence … --html`). */
export const evidenceRoutes: RouteModule = (app, deps) => {
  const r = typed(app);
  r.get('/v1/evidence/:subject/:ref', {
    config: { access: { scope: 'read', permission: 'audit.read' } },
    schema: { tags: ['audit'], summary: 'Evidence pack of an identity, engagement or system: every event with its chain position and hash',
      params: EvidenceInput, response: { 200: Pack, ...problems } },
  }, async (request) => buildEvidencePack(contextOf(request, deps.store, deps.clock), request.params));
};
