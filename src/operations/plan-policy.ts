import { z } from 'zod';
import { computePlan, isEmptyPlan, readSnapshot, renderPlan, summarizePlan, type PlanSummary, type PolicyPlan } from '../policy/plan.js';
import { parsePolicyOrRefuse, resolvePolicyOrRefuse } from '../policy/resolve.js';
import { authorize } from './authorize.js';
import { inTransaction, type Context } from '../work/context.js';
import { inRolledBackTransaction } from '../work/rolled-back.js';
import { parseInput } from './input.js';
import { policyImpact, type PolicyImpact } from './lib/policy-impact.js';
import { PolicyInput, policySource } from './lib/policy-input.js';

export const Input = PolicyInput;

export interface PolicyPlanResult {
  files: string[];
  digest: string;
  /** The digest of the policy in force; null when none was applied yet. */
  previousDigest: string | null;
  plan: PolicyPlan;
  summary: PlanSummary;
  /** `+ system payments`, `~ entitlement payments/admin tier: standard → privileged`, ... */
  lines: string[];
  changed: boolean;
  /** With `impact`: what applying would do to what exists now. */
  impact?: PolicyImpact;
}

/**
 * What `applyPolicy` would change, without changing anything. Refused with 'policy.invalid' on any
 * error. With `impact`, also what it would do to grants, conflicts, birthright and pending requests,
 * found by applying the candidate in a transaction that is rolled back (see lib/policy-impact.ts).
 */
export const planPolicy = async (ctx: Context, input: z.input<typeof Input>, options: { impact?: boolean } = {}): Promise<PolicyPlanResult> => {
  const data = parseInput(Input, input);
  const parsed = await parsePolicyOrRefuse(policySource(data));
  const result: PolicyPlanResult = await inTransaction(ctx, async (work) => {
    await authorize(work, 'policy.read');
    const resolved = await resolvePolicyOrRefuse(work.tx, parsed);
    const snapshot = await readSnapshot(work.tx);
    const plan = computePlan(resolved, snapshot);
    return {
      files: parsed.files, digest: parsed.digest, previousDigest: snapshot.applied?.digest ?? null,
      plan, summary: summarizePlan(plan), lines: renderPlan(plan), changed: !isEmptyPlan(plan),
    };
  });
  if (!options.impact) return result;
  const impact = await inRolledBackTransaction(ctx, async (work) => {
    // Impact reads every person's grants and pending requests: as much as applying would touch.
    await authorize(work, 'policy.apply');
    return policyImpact(work, await resolvePolicyOrRefuse(work.tx, parsed));
  });
  return { ...result, impact };
};
