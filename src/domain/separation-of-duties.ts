import type { AppliedPolicy } from './policy-types.js';

export type SodRule = AppliedPolicy['separationOfDuties'][number];

/**
 * The first rule that forbids holding `wanted` together with what is `held` (entitlement keys): one
 * that names `wanted` and whose every other entitlement is held. `conflictsWith` names those others.
 */
export const findSodConflict = (
  rules: readonly SodRule[], wanted: string, held: readonly string[],
): { rule: SodRule; conflictsWith: string } | undefined => {
  for (const rule of rules) {
    if (!rule.entitlements.includes(wanted)) continue;
    const others = rule.entitlements.filter((key) => key !== wanted);
    if (others.every((key) => held.includes(key))) return { rule, conflictsWith: others.join(' and ') };
  }
  return undefined;
};

/** Every rule whose entitlements are all among `held`: the conflicts a person holds now. */
export const conflictsHeld = (rules: readonly SodRule[], held: readonly string[]): SodRule[] =>
  rules.filter((rule) => rule.entitlements.every((key) => held.includes(key)));
