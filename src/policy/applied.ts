import { eq } from 'drizzle-orm';
import { TenureError } from '../domain/errors.js';
import type { AppliedPolicy } from '../domain/policy-types.js';
import type { Executor } from '../store/database.js';
import { policyState } from '../store/schema.js';

/**
 * The policy in force, as `policy apply` stored it. Refused rather than defaulted when none was
 * applied: durations, routing and SoD rules must come from a reviewed policy, never from a guess.
 */
export const loadAppliedPolicy = async (exec: Executor): Promise<AppliedPolicy> => {
  const applied = await findAppliedPolicy(exec);
  if (!applied) throw new TenureError('policy.not_applied', 'no policy has been applied yet: run tenure policy apply <file or folder>');
  return applied;
};

/** The policy in force, or undefined before the first `policy apply` (setting up identities comes first). */
export const findAppliedPolicy = async (exec: Executor): Promise<AppliedPolicy | undefined> => {
  const [row] = await exec.select({ document: policyState.document }).from(policyState).where(eq(policyState.id, 1));
  return row?.document as AppliedPolicy | undefined;
};
