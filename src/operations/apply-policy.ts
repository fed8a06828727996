import { z } from 'zod';
import { TenureError } from '../domain/errors.js';
import { applyResolvedPolicy } from '../policy/apply.js';
import { isEmptyPlan, summarizePlan } from '../policy/plan.js';
import { parsePolicyOrRefuse, resolvePolicyOrRefuse } from '../policy/resolve.js';
import { loadPolicyTests } from '../policy/tests-file.js';
import { authorize } from './authorize.js';
import { inTransaction, type Context } from '../work/context.js';
import { parseInput } from './input.js';
import { PolicyInput, policySource } from './lib/policy-input.js';
import { rerouteForPolicy } from './lib/approval/reroute-requests.js';
import { scanSodConflicts } from './lib/sod/scan.js';
import type { PolicyPlanResult } from './plan-policy.js';
import type { DecisionChecker } from './lib/policy-tests/run-case.js';
import { testPolicy } from './test-policy.js';

export const Input = PolicyInput;

export interface PolicyApplyResult extends PolicyPlanResult { appliedAt: Date }

/** A policy that ships with tests is applied only when they pass (see test-policy.ts). */
const refuseFailingTests = async (ctx: Context, data: z.output<typeof Input>, checker: DecisionChecker | undefined): Promise<void> => {
  if ((await loadPolicyTests(policySource(data))).length === 0) return;
  const run = await testPolicy(ctx, data, { checker });
  if (run.ok) return;
  const failed = run.results.filter((r) => !r.ok).map((r) => r.name);
  throw new TenureError('policy.tests_failed', `${failed.length} of ${run.results.length} policy tests fail (run tenure policy test): ${failed.join('; ')}`);
};

/**
 * Applies policy files in one transaction: systems, entitlements, policy roles, the applied
 * document and the audit events commit together or not at all. The files are checked before the
 * transaction opens, so no lock is held while reading them. An unchanged policy still applies and
 * records 'policy.applied' (with no changes): evidence that this exact policy was confirmed then.
 * Separation of duties is scanned in the same transaction, so a new rule's conflicts are findings at once.
 */
export const applyPolicy = async (
  ctx: Context, input: z.input<typeof Input>, options: { runTests?: boolean; checker?: DecisionChecker } = {},
): Promise<PolicyApplyResult> => {
  const data = parseInput(Input, input);
  const parsed = await parsePolicyOrRefuse(policySource(data));
  if (options.runTests !== false) await refuseFailingTests(ctx, data, options.checker);
  return inTransaction(ctx, async (work) => {
    await authorize(work, 'policy.apply');
    const resolved = await resolvePolicyOrRefuse(work.tx, parsed);
    const result = await applyResolvedPolicy(work, resolved);
    await rerouteForPolicy(work, result.plan, result.digest);
    // A rule added today applies to access granted yesterday: every holder of both sides is flagged now.
    await scanSodConflicts(work, resolved.document.separationOfDuties);
    return { ...result, summary: summarizePlan(result.plan), changed: !isEmptyPlan(result.plan), appliedAt: work.now };
  });
};
