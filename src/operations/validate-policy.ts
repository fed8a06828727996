import { z } from 'zod';
import { formatIssue, type PolicyIssue } from '../policy/load.js';
import { resolvePolicy } from '../policy/resolve.js';
import { validatePolicyFiles } from '../policy/validate.js';
import { authorize } from './authorize.js';
import { inTransaction, type Context } from '../work/context.js';
import { parseInput } from './input.js';
import { PolicyInput, policySource } from './lib/policy-input.js';

export const Input = PolicyInput;

export interface PolicyValidationResult {
  ok: boolean;
  files: string[];
  /** The digest the policy would be applied under; null when it has errors. */
  digest: string | null;
  errors: PolicyIssue[];
  /** The errors as `file:line path: message` lines. */
  messages: string[];
}

/**
 * Checks policy files without changing anything. Without a context only the files are checked (for
 * CI, with no database); with one, the people they name are also checked against the database,
 * which needs 'policy.read'. Errors are returned, not thrown: finding them is the point.
 */
export const validatePolicy = async (ctx: Context | undefined, input: z.input<typeof Input>): Promise<PolicyValidationResult> => {
  const data = parseInput(Input, input);
  const validation = await validatePolicyFiles(policySource(data));
  let errors = validation.errors;
  const parsed = validation.policy;
  if (ctx && parsed) {
    errors = await inTransaction(ctx, async (work) => {
      await authorize(work, 'policy.read');
      return (await resolvePolicy(work.tx, parsed)).errors;
    });
  }
  const ok = errors.length === 0;
  return { ok, files: validation.files, digest: ok && parsed ? parsed.digest : null, errors, messages: errors.map(formatIssue) };
};
