import { z } from 'zod';
import { FINGERPRINT } from '../../domain/credentials.js';
import { DECISION_REASONS, DECISION_WARNINGS } from '../../domain/decision.js';
import { TenureError } from '../../domain/errors.js';
import { clean } from '../../operations/input.js';
import { isoDate, optionalDate, problemSchema, problems } from '../schemas.js';
import { typed, type RouteModule } from './route.js';

const name = clean(z.string().trim().min(1, 'must not be empty').max(200, 'must be at most 200 characters'));

const CheckContext = z.object({
  mfa: z.boolean().optional().describe('the user completed multi-factor authentication for this session'),
  mfaAt: z.codec(z.iso.datetime({ offset: true, error: 'must be a date-time with its offset, such as 2026-12-08T09:00:00Z' }), z.number(), {
    decode: (text) => Date.parse(text), encode: (ms) => new Date(ms).toISOString(),
  }).optional().describe('when that MFA was performed (the ID token\'s auth_time): an entitlement with mfa_max_age measures it; unknown fails it'),
  trustedDevice: z.boolean().optional().describe('the device is managed and compliant'),
  ticket: clean(z.string().max(200, 'must be at most 200 characters')).optional().describe('a change or incident reference'),
  sourceAddress: z.union([z.ipv4(), z.ipv6()], { error: 'must be an IPv4 or IPv6 address' }).optional()
    .describe('the address the attempt comes from'),
  interactive: z.boolean().optional()
    .describe('a person was seen at the attempt (an interactive login, a browser session, an MFA prompt answered); a service account is then denied'),
  // The message never repeats the value: a secret pasted by mistake must not come back in the problem.
  credential: z.string().regex(FINGERPRINT, 'must be a fingerprint, SHA256:<base64> or sha256:<64 hex digits>, never the secret itself').optional()
    .describe('the fingerprint of the credential presented; one registered to another identity is denied'),
}).strict();

export const CheckBody = z.object({
  identity: name.describe('identity id or handle'),
  entitlement: name.optional().describe('entitlement key, system/entitlement'),
  system: name.optional().describe('system key, with action'),
  action: name.optional().describe('what the system calls the operation (an action the policy lists for an entitlement)'),
  context: CheckContext.optional(),
}).strict().superRefine((body, ctx) => {
  const byKey = body.entitlement !== undefined;
  const byAction = body.system !== undefined || body.action !== undefined;
  if (byKey === byAction) {
    ctx.addIssue({ code: 'custom', path: ['entitlement'], message: 'give either entitlement, or system and action' });
  } else if (byAction && (body.system === undefined || body.action === undefined)) {
    ctx.addIssue({ code: 'custom', path: [body.system === undefined ? 'system' : 'action'], message: 'system and action go together' });
  }
});

const CheckResponse = z.object({
  decision: z.enum(['allow', 'deny']),
  reason: z.enum(DECISION_REASONS).describe('stable code; see docs/decision-point.md'),
  entitlement: z.string().nullable().describe('the entitlement the answer is about'),
  grant: z.object({ id: z.string(), endsAt: optionalDate }).nullable().describe('the grant that allows it, and when it ends'),
  warnings: z.array(z.enum(DECISION_WARNINGS)),
  evaluatedAt: isoDate,
});

/**
 * POST /v1/check: may this identity use this entitlement (or system + action) now, in this context?
 * Answered from the in-memory index; an unknown identity or entitlement is a deny with its reason.
 */
export const checkRoutes: RouteModule = (app, deps) => {
  const r = typed(app);
  r.post('/v1/check', {
    config: { access: { scope: 'check', permission: 'access.check_any', rememberCaller: true } },
    schema: {
      tags: ['decision'], summary: 'Decide whether an identity may use an entitlement now, in this context',
      body: CheckBody, response: { 200: CheckResponse, ...problems, 503: problemSchema },
    },
  }, async (request) => {
    if (!deps.decision) throw new TenureError('service.not_ready', 'this process runs no decision point');
    return deps.decision.check(request.body);
  });
};
