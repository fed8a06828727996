import { z } from 'zod';
import { checkInTransaction } from '../../decision/policy-check.js';
import { applyPolicy } from '../../operations/apply-policy.js';
import { PolicyInput } from '../../operations/lib/policy-input.js';
import { planPolicy } from '../../operations/plan-policy.js';
import type { PlanSummary } from '../../policy/plan.js';
import { testPolicy } from '../../operations/test-policy.js';
import { validatePolicy } from '../../operations/validate-policy.js';
import { contextOf } from '../access.js';
import { clean, parseInput } from '../../operations/input.js';
import { isoDate, problems } from '../schemas.js';
import { typed, type RouteModule } from './route.js';

/** Over the API a policy is sent as files of text: the server never reads a path a caller names. */
const Body = z.object({
  files: z.array(z.object({ name: clean(z.string().trim().min(1, 'must name the file').max(200)), content: clean(z.string().max(1_000_000), true) }).strict()).min(1).max(100),
}).strict();
const Issue = z.object({ file: z.string(), line: z.number(), path: z.string(), message: z.string() });
const Validation = z.object({
  ok: z.boolean(), files: z.array(z.string()), digest: z.string().nullable(), errors: z.array(Issue), messages: z.array(z.string()),
});
const Plan = z.object({
  files: z.array(z.string()), digest: z.string(), previousDigest: z.string().nullable(), changed: z.boolean(),
  lines: z.array(z.string()), appliedAt: isoDate.optional(),
  summary: z.object(Object.fromEntries(['systemsAdded', 'systemsChanged', 'systemsRetired', 'entitlementsAdded', 'entitlementsChanged',
    'entitlementsRetired', 'rolesAdded', 'rolesRemoved', 'settingsChanged', 'total'].map((k) => [k, z.number()])) as Record<keyof PlanSummary, z.ZodNumber>),
});

const PlanQuery = z.object({ impact: z.enum(['true', 'false']).optional() }).strict();
const who = (field: 'entitlement' | 'rule') => z.array(z.object({ identity: z.string(), [field]: z.string() }));
const Impact = z.object({
  grantsOutlasting: z.array(z.object({ grantId: z.string(), identity: z.string(), entitlement: z.string(), endsAt: isoDate.nullable(), newMaximum: z.number() })),
  newSodConflicts: who('rule'), birthrightGained: who('entitlement'), birthrightLost: who('entitlement'),
  requestsRerouted: z.array(z.object({ requestId: z.string(), stage: z.string(), from: z.array(z.string()), to: z.array(z.string()) })),
});
const Outcome = z.object({ route: z.array(z.string()).optional(), refused: z.string().optional(), message: z.string().optional(),
  entitlements: z.array(z.string()).optional() });
const TestRun = z.object({
  files: z.array(z.string()), digest: z.string(), ok: z.boolean(), passed: z.number(), failed: z.number(),
  results: z.array(z.object({ file: z.string(), name: z.string(), ok: z.boolean(), expected: z.record(z.string(), z.unknown()), actual: Outcome })),
});

export const policyRoutes: RouteModule = (app, deps) => {
  const r = typed(app);
  const ctx = (request: Parameters<typeof contextOf>[0]) => contextOf(request, deps.store, deps.clock);
  // parseInput, not parse: a rule PolicyInput adds (a blank file name) is refused by field, never thrown as a 500.
  const parsed = (body: z.infer<typeof Body>) => parseInput(PolicyInput, body);
  r.post('/v1/policy/validate', {
    config: { access: { scope: 'read', permission: 'policy.read' } },
    schema: { tags: ['policy'], summary: 'Check policy files and the people they name; changes nothing', body: Body, response: { 200: Validation, ...problems } },
  }, async (request) => validatePolicy(ctx(request), parsed(request.body)));
  r.post('/v1/policy/plan', {
    config: { access: { scope: 'read', permission: 'policy.read' } },
    schema: { tags: ['policy'], summary: 'What applying would change; with impact=true (needs policy.apply), what it would do to what exists',
      body: Body, querystring: PlanQuery, response: { 200: Plan.extend({ impact: Impact.optional() }), ...problems } },
  }, async (request) => planPolicy(ctx(request), parsed(request.body), { impact: request.query.impact === 'true' }));
  r.post('/v1/policy/test', {
    config: { access: { scope: 'write', permission: 'policy.apply' } },
    schema: { tags: ['policy'], summary: "Run the policy's tests (files named *.tests.yaml) against it; changes nothing", body: Body,
      response: { 200: TestRun, ...problems } },
  }, async (request) => testPolicy(ctx(request), parsed(request.body), { checker: checkInTransaction }));
  r.post('/v1/policy/apply', {
    config: { access: { scope: 'write', permission: 'policy.apply' } },
    schema: { tags: ['policy'], summary: 'Apply in one audited transaction', body: Body, response: { 200: Plan, ...problems } },
  }, async (request) => applyPolicy(ctx(request), parsed(request.body), { checker: checkInTransaction }));
};
