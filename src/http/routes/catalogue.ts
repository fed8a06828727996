import { z } from 'zod';
import { TIERS } from '../../domain/model.js';
import { listCatalogue } from '../../operations/list-catalogue.js';
import { contextOf } from '../access.js';
import { optionalDate, problems } from '../schemas.js';
import { typed, type RouteModule } from './route.js';

const Item = z.object({
  key: z.string(), name: z.string(), tier: z.enum(TIERS), system: z.string(), systemName: z.string(),
  maxDurationMs: z.number().describe('the longest window I may ask for (policy, entitlement and my engagement\'s end)'),
  maxDuration: z.string().describe('the same, as 8h, 30d'),
  route: z.array(z.string()).describe('the approval stages a request of mine would go through, in order'),
  outOfScope: z.boolean().describe('outside my engagement\'s scope: security must approve too'),
  sharedAccount: z.boolean().describe('a shared operational account: one holder at a time, used only through the PostgreSQL proxy'),
  held: z.boolean(), pending: z.boolean(), sodConflict: z.string().nullable().describe('what I hold that forbids it, and the rule'),
  evidence: z.object({
    rules: z.array(z.string()), ticketRequired: z.boolean(), ticketPatterns: z.array(z.string()), minJustification: z.number(), maxDurationMs: z.number().nullable(),
  }).describe("what the policy's evidence rules ask a request of mine for it to carry"),
});
const Catalogue = z.object({ engagementEndsAt: optionalDate, items: z.array(Item) });

/** The catalogue the console's request page searches: what I could ask for, and how it would be decided. */
export const catalogueRoutes: RouteModule = (app, deps) => {
  typed(app).get('/v1/catalogue', {
    config: { access: { scope: 'read', permission: 'self' } },
    schema: { tags: ['requests'], summary: 'Live entitlements I may ask for, with my maximum duration and the approval route',
      response: { 200: Catalogue, ...problems } },
  }, async (request) => listCatalogue(contextOf(request, deps.store, deps.clock)));
};
