import { healthRoutes } from './health.js';
import { identityRoutes } from './identities.js';
import { meRoutes } from './me.js';
import type { RouteModule } from './route.js';

/** Every route group of the API, in the order they appear in the OpenAPI document. */
export const ROUTES: RouteModule[] = [healthRoutes, meRoutes, identityRoutes];
