import { z } from 'zod';
import { TenureError } from '../domain/errors.js';
import { applyResolvedPolicy } from '../policy/apply.js';
import { parsePolicyOrRefuse, resolvePolicyOrRefuse } from '../policy/resolve.js';
import { loadPolicyTests } from '../policy/tests-file.js';
import type { Context } from '../work/context.js';
import { inRolledBackTransaction, RolledBack } from '../work/rolled-back.js';
import { authorize } from './authorize.js';
import { parseInput } from './input.js';
import { PolicyInput, policySource } from './lib/policy-input.js';
import { runCase, type CaseResult, type DecisionChecker } from './lib/policy-tests/run-case.js';

export const Input = PolicyInput;

export interface PolicyTestResult { files: string[]; digest: string; ok: boolean; passed: number; failed: number; results: (CaseResult & { file: string })[] }

/**
 * Runs a policy's tests (`*.tests.yaml`, see policy/tests-file.ts) against the candidate policy,
 * changing nothing: the candidate is applied inside a transaction that is always rolled back, and
 * each case runs the real use cases in a savepoint of its own, so cases never see each other.
 * Needs `policy.apply`: a case acts as the people it names, which reads what they hold.
 * While it runs it holds what those use cases lock (the audit head among them), for milliseconds per case.
 */
export const testPolicy = async (
  ctx: Context, input: z.input<typeof Input>, options: { checker?: DecisionChecker } = {},
): Promise<PolicyTestResult> => {
  const data = parseInput(Input, input);
  const source = policySource(data);
  const parsed = await parsePolicyOrRefuse(source);
  const suites = await loadPolicyTests(source);
  if (suites.length === 0) throw new TenureError('policy.invalid', 'the policy has no tests: write them in <policy>.tests.yaml', { field: 'tests' });
  const results: PolicyTestResult['results'] = [];
  await inRolledBackTransaction(ctx, async (work) => {
    await authorize(work, 'policy.apply');
    const resolved = await resolvePolicyOrRefuse(work.tx, parsed);
    await applyResolvedPolicy(work, resolved);
    for (const suite of suites) {
      for (const c of suite.cases) {
        await work.tx.transaction(async (savepoint) => {
          results.push({ file: suite.file, ...(await runCase(ctx, savepoint, resolved.document, c, options.checker)) });
          throw new RolledBack();
        }).catch((error: unknown) => { if (!(error instanceof RolledBack)) throw error; });
      }
    }
  });
  const failed = results.filter((r) => !r.ok).length;
  return { files: parsed.files, digest: parsed.digest, ok: failed === 0, passed: results.length - failed, failed, results };
};
