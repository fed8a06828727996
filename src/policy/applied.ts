import { eq, sql } from 'drizzle-orm';
import { TenureError } from '../domain/errors.js';
import type { AppliedPolicy } from '../domain/policy-types.js';
import type { Executor } from '../store/database.js';
import { policyState } from '../store/schema.js';

const notApplied = () => new TenureError('policy.not_applied', 'no policy has been applied yet: run tenure policy apply <file or folder>');

/**
 * The policy in force, as `policy apply` stored it. Refused rather than defaulted when none was
 * applied: durations, routing and SoD rules must come from a reviewed policy, never from a guess.
 */
export const loadAppliedPolicy = async (exec: Executor): Promise<AppliedPolicy> => {
  const applied = await findAppliedPolicy(exec);
  if (!applied) throw notApplied();
  return applied;
};

/** The policy in force, or undefined before the first `policy apply` (setting up identities comes first). */
export const findAppliedPolicy = async (exec: Executor): Promise<AppliedPolicy | undefined> => {
  const [row] = await exec.select({ document: policyState.document }).from(policyState).where(eq(policyState.id, 1));
  return row?.document as AppliedPolicy | undefined;
};

/**
 * The revision of the policy in force (null before the first apply), as a column a statement sent
 * anyway can carry, so that `loadAppliedPolicyAt` costs no round trip of its own.
 */
export const appliedRevision = sql<string | null>`(select ${policyState.revision} from ${policyState} where ${policyState.id} = 1)`;

/** The policy this process read last, by its revision: a decision reads and parses it only when a new one was applied. */
let lastRead: { revision: string; policy: AppliedPolicy } | undefined;

const deepFreeze = <T>(value: T): T => {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const inner of Object.values(value)) deepFreeze(inner);
  }
  return value;
};

/**
 * The policy in force at `revision` (read from `appliedRevision` in the caller's own statement).
 * A revision is a random id new at every apply, unique across databases, so the document kept for
 * it is the one stored with it; a new apply changes the revision and the next decision reads the
 * new document. The kept document is frozen: it is shared by every decision of the process.
 */
export const loadAppliedPolicyAt = async (exec: Executor, revision: string | null): Promise<AppliedPolicy> => {
  if (revision === null) throw notApplied();
  if (lastRead?.revision === revision) return lastRead.policy;
  const [row] = await exec.select({ document: policyState.document, revision: policyState.revision }).from(policyState).where(eq(policyState.id, 1));
  if (!row) throw notApplied();
  lastRead = { revision: row.revision, policy: deepFreeze(row.document as AppliedPolicy) };
  return lastRead.policy;
};
