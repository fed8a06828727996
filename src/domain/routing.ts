import type { StageKind } from './model.js';

export interface StageCandidates {
  kind: StageKind;
  /** The natural approvers: the sponsor/manager/owner, the system owners, the security role. */
  primary: string[];
  alternates: string[];
}

export interface RoutedStage { kind: StageKind; approverIds: string[]; usesAlternates: boolean }

/**
 * Can every stage be decided by a different person? A small bipartite matching (stages ≤ 3), so the
 * answer is exact rather than greedy: a sponsor who is also the only system owner must not make the
 * owner stage look covered.
 */
export const hasDistinctApprovers = (stages: readonly string[][]): boolean => {
  const assign = (index: number, used: Set<string>): boolean => {
    if (index === stages.length) return true;
    return (stages[index] ?? []).some((id) => {
      if (used.has(id)) return false;
      used.add(id);
      const ok = assign(index + 1, used);
      used.delete(id);
      return ok;
    });
  };
  return assign(0, new Set());
};

/**
 * Routes a request: each stage goes to its primary approvers (minus the requester and beneficiary);
 * a stage whose primaries cannot cover it gets its alternates added. Returns undefined when even
 * the alternates leave some stage without a distinct eligible approver.
 */
export const routeStages = (
  stages: readonly StageCandidates[],
  exclude: (ids: readonly string[]) => string[],
): RoutedStage[] | undefined => {
  const routed: RoutedStage[] = stages.map((stage) => {
    const primary = exclude(stage.primary);
    return primary.length > 0
      ? { kind: stage.kind, approverIds: primary, usesAlternates: false }
      : { kind: stage.kind, approverIds: exclude(stage.alternates), usesAlternates: true };
  });
  if (hasDistinctApprovers(routed.map((s) => s.approverIds))) return routed;
  const widened = routed.map((stage, i) => ({
    kind: stage.kind,
    approverIds: [...new Set([...stage.approverIds, ...exclude(stages[i]?.alternates ?? [])])],
    usesAlternates: stage.usesAlternates || (stages[i]?.alternates.length ?? 0) > 0,
  }));
  return hasDistinctApprovers(widened.map((s) => s.approverIds)) ? widened : undefined;
};

/**
 * The ordered stages of a request: the beneficiary's sponsor (manager, owner), then the system
 * owner, then security when the access is privileged or outside the engagement's scope.
 */
export const stagesFor = (tier: string, outOfScope: boolean): StageKind[] =>
  tier === 'privileged' || outOfScope ? ['sponsor', 'system_owner', 'security'] : ['sponsor', 'system_owner'];
