import { and, eq } from 'drizzle-orm';
import { formatDuration, maxDurationMs } from '../domain/durations.js';
import { inEngagementScope } from '../domain/engagement-scope.js';
import { isNonEmployee } from '../domain/model.js';
import { evidenceMaximum, evidenceNeeded, evidenceRulesFor, stagesWithEvidence } from '../domain/evidence.js';
import { stagesFor } from '../domain/routing.js';
import { findSodConflict } from '../domain/separation-of-duties.js';
import { loadAppliedPolicy } from '../policy/applied.js';
import { activeEngagementOf, liveEntitlementKeys, pendingEntitlementKeysOf } from '../store/queries/catalogue.js';
import { entitlements, systems } from '../store/schema.js';
import { loadActor } from './authorize.js';
import type { Context } from '../work/context.js';

/**
 * What the caller may ask for, for themselves: every live entitlement with the longest window the
 * policy allows this caller and the stages a request would go through. Entitlements already held or
 * asked for, or in conflict with what is held, are listed with the reason, so the console can say why
 * rather than hide them. The request itself still applies every rule (this is advice, not a promise).
 */
export const listCatalogue = async (ctx: Context) => {
  const exec = ctx.store.db;
  const now = ctx.clock.now();
  const acting = await loadActor(exec, ctx.actor.id);
  const me = acting.identity;
  const policy = await loadAppliedPolicy(exec);
  const engagement = isNonEmployee(me.kind) ? await activeEngagementOf(exec, me.id, now) : undefined;
  const held = await liveEntitlementKeys(exec, me.id);
  const pending = (await pendingEntitlementKeysOf(exec, [me.id])).get(me.id) ?? [];
  const rows = await exec.select({ entitlement: entitlements, system: systems }).from(entitlements)
    .innerJoin(systems, eq(entitlements.systemId, systems.id))
    .where(and(eq(entitlements.retired, false), eq(systems.retired, false)))
    .orderBy(entitlements.key);
  const engagementLeftMs = engagement ? Math.max(0, engagement.endsAt.getTime() - now.getTime()) : undefined;
  const items = rows.map(({ entitlement, system }) => {
    const { tier } = entitlement;
    const evidence = evidenceRulesFor(policy.evidence ?? [], { tier, kind: me.kind, pattern: engagement?.pattern ?? null });
    const policyMax = Math.min(maxDurationMs(policy, tier, me.kind, entitlement.maxDurationMs), evidenceMaximum(evidence)?.ms ?? Infinity);
    // A non-employee's grant never outlives the engagement, so the engagement's end caps the window too.
    const maxMs = engagementLeftMs === undefined ? policyMax : Math.min(policyMax, engagementLeftMs);
    const outOfScope = engagement !== undefined && !inEngagementScope(engagement.scope, system.key, entitlement.key);
    const conflict = findSodConflict(policy.separationOfDuties, entitlement.key, held);
    return {
      key: entitlement.key, name: entitlement.name, tier, system: system.key, systemName: system.name,
      maxDurationMs: maxMs, maxDuration: formatDuration(maxMs), outOfScope, sharedAccount: entitlement.sharedAccount,
      route: stagesWithEvidence(stagesFor(tier, outOfScope), evidence, { tier, outOfScope }), evidence: evidenceNeeded(evidence),
      held: held.includes(entitlement.key), pending: pending.includes(entitlement.key),
      sodConflict: conflict ? `${conflict.conflictsWith} (${conflict.rule.name})` : null,
    };
  });
  return { engagementEndsAt: engagement?.endsAt ?? null, items };
};
