import { auditRoutes } from './audit.js';
import { breakGlassRoutes } from './break-glass.js';
import { catalogueRoutes } from './catalogue.js';
import { checkRoutes } from './check.js';
import { credentialRoutes } from './credentials.js';
import { demoRoutes } from './demo.js';
import { authRoutes } from './auth.js';
import { engagementRoutes } from './engagements.js';
import { evidenceRoutes } from './evidence.js';
import { grantRoutes } from './grants.js';
import { healthRoutes } from './health.js';
import { hrRoutes } from './hr.js';
import { identityRoutes } from './identities.js';
import { meRoutes } from './me.js';
import { policyRoutes } from './policy.js';
import { provisioningRoutes } from './provisioning.js';
import { proxySessionRoutes } from './proxy-sessions.js';
import { requestRoutes } from './requests.js';
import { reviewRoutes } from './reviews.js';
import type { RouteModule } from './route.js';
import { sshRoutes } from './ssh.js';
import { systemRoutes } from './systems.js';
import { tokenRoutes } from './tokens.js';
import { vendorRoutes } from './vendors.js';
import { webhookRoutes } from './webhooks.js';

/** Every route group of the API, in the order they appear in the OpenAPI document. */
export const ROUTES: RouteModule[] = [
  healthRoutes, meRoutes, checkRoutes, identityRoutes, vendorRoutes, hrRoutes, engagementRoutes, catalogueRoutes, requestRoutes, grantRoutes, proxySessionRoutes, breakGlassRoutes, reviewRoutes, provisioningRoutes, systemRoutes, sshRoutes, credentialRoutes, tokenRoutes, policyRoutes, auditRoutes, evidenceRoutes, webhookRoutes, authRoutes, demoRoutes,
];
