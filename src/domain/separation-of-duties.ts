import type { AppliedPolicy } from './policy-types.js';

export type SodRule = AppliedPolicy['separationOfDuties'][number];

/** The first rule that forbids holding `wanted` together with any of `held` (entitlement keys). */
export const findSodConflict = (
  rules: readonly SodRule[], wanted: string, held: readonly string[],
): { rule: SodRule; conflictsWith: string } | undefined => {
  for (const rule of rules) {
    const [a, b] = rule.entitlements;
    const other = wanted === a ? b : wanted === b ? a : undefined;
    if (other !== undefined && held.includes(other)) return { rule, conflictsWith: other };
  }
  return undefined;
};

/** Every rule whose entitlements are all among `held`: the conflicts a person holds now. */
export const conflictsHeld = (rules: readonly SodRule[], held: readonly string[]): SodRule[] =>
  rules.filter((rule) => rule.entitlements.every((key) => held.includes(key)));
