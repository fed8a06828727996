import { sql } from 'drizzle-orm';
import { z } from 'zod';
import { TenureError } from '../../domain/errors.js';
import { problemSchema } from '../schemas.js';
import { typed, type RouteModule } from './route.js';

const Status = z.object({ status: z.string(), checks: z.record(z.string(), z.boolean()).optional() });

/** Liveness, readiness (database answers, decision index fresh) and the OpenAPI document. */
export const healthRoutes: RouteModule = (app, deps) => {
  const r = typed(app);
  r.get('/healthz', { config: { access: { public: true } }, schema: { hide: true, response: { 200: Status } } },
    async () => ({ status: 'ok' }));
  r.get('/readyz', { config: { access: { public: true } }, schema: { hide: true, response: { 200: Status, 503: problemSchema } } },
    async () => {
      const database = await deps.store.db.execute(sql`SELECT 1`).then(() => true, () => false);
      const decisionIndex = deps.decision ? deps.decision.ready() : true;
      if (!database || !decisionIndex) {
        throw new TenureError('service.not_ready', `not ready: ${!database ? 'the database does not answer' : 'the decision index is stale'}`);
      }
      return { status: 'ready', checks: { database, decisionIndex } };
    });
  app.get('/openapi.json', { config: { access: { public: true } }, schema: { hide: true } }, async () => app.swagger());
};
