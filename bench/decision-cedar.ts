/**
 * The same questions answered by Cedar 4 (the WebAssembly build), with the rule written as one Cedar
 * policy: identity active, a grant for the entitlement (an entity tag keyed by entitlement key)
 * inside its window and under an open engagement, MFA and trusted device where the entitlement asks.
 * The policy set is preparsed once (statefulIsAuthorized); each call gets a two-entity slice (the
 * identity with its grants, the entitlement), built before timing starts, which favours Cedar.
 * Answers are compared with Tenure's; the row reports the agreement and the speed ratio.
 */
import * as cedar from '@cedar-policy/cedar-wasm/nodejs';
import { sql } from 'drizzle-orm';
import type { DecisionGrant } from '../src/domain/decision.js';
import type { CheckRequest, DecisionService } from '../src/decision/service.js';
import { loadIndex } from '../src/decision/loader.js';
import { rawRows, type Store } from '../src/store/database.js';
import { median, type BenchResult } from './report.js';

const POLICY = `
permit (principal, action == Action::"use", resource)
when {
  principal.status == "active" &&
  principal.hasTag(resource.key) &&
  principal.getTag(resource.key).live &&
  principal.getTag(resource.key).startsAt <= context.now &&
  context.now < principal.getTag(resource.key).endsAt &&
  (!principal.getTag(resource.key).underEngagement ||
    (principal.getTag(resource.key).engagementActive &&
     principal.getTag(resource.key).engagementStartsAt <= context.now &&
     context.now < principal.getTag(resource.key).engagementEndsAt))
}
unless { resource.mfa && !context.mfa }
unless { resource.trustedDevice && !context.trustedDevice };`;

/** Cedar's Long is a 64-bit integer: an open end becomes the largest safe one. */
const long = (ms: number) => (Number.isFinite(ms) ? Math.trunc(ms) : Number.MAX_SAFE_INTEGER);

export const benchCedar = async (
  store: Store, service: DecisionService, backend: string, questions: CheckRequest[], runs: number, tenurePerSecond: number,
): Promise<BenchResult> => {
  const answer = cedar.preparsePolicySet('tenure', { staticPolicies: POLICY });
  if (answer.type !== 'success') throw new Error(`Cedar refused the policy: ${JSON.stringify(answer.errors)}`);
  const now = Date.now();
  const { index } = await loadIndex(store.db, { endedSince: new Date(now - 7 * 86_400_000) });
  const keyOf = new Map<number, string>();
  for (const { key } of await rawRows<{ key: string }>(store.db, sql`SELECT key FROM entitlements`)) {
    const entry = index.entitlement(key);
    if (entry) keyOf.set(entry.ref, key);
  }
  const calls: cedar.StatefulAuthorizationCall[] = [];
  const expected: boolean[] = [];
  for (const question of questions) {
    if (!question.entitlement) continue;
    const identity = index.resolveIdentity(question.identity);
    const entitlement = index.entitlement(question.entitlement);
    if (!identity || !entitlement) continue;
    const tags: Record<string, cedar.CedarValueJson> = {};
    for (let i = 0; i < identity.held.length; i += 2) {
      const g = identity.held[i + 1] as DecisionGrant;
      tags[keyOf.get(identity.held[i] as number)!] = {
        live: g.status === 'active' || g.status === 'scheduled', startsAt: long(g.startsAt), endsAt: long(g.endsAt),
        underEngagement: g.engagement !== null, engagementActive: g.engagement?.status === 'active',
        engagementStartsAt: long(g.engagement?.startsAt ?? 0), engagementEndsAt: long(g.engagement?.endsAt ?? 0),
      };
    }
    calls.push({
      principal: { type: 'User', id: identity.id }, action: { type: 'Action', id: 'use' }, resource: { type: 'Entitlement', id: entitlement.id },
      context: { now, mfa: question.context?.mfa === true, trustedDevice: question.context?.trustedDevice === true },
      preparsedPolicySetId: 'tenure',
      entities: [
        { uid: { type: 'User', id: identity.id }, attrs: { status: identity.status }, parents: [], tags },
        { uid: { type: 'Entitlement', id: entitlement.id }, parents: [],
          attrs: { key: entitlement.key, mfa: entitlement.conditions?.mfa === true, trustedDevice: entitlement.conditions?.trustedDevice === true } },
      ],
    });
    expected.push(service.check(question, new Date(now)).decision === 'allow');
  }
  const decide = (call: cedar.StatefulAuthorizationCall): boolean => {
    const result = cedar.statefulIsAuthorized(call);
    if (result.type !== 'success') throw new Error(`Cedar failed: ${JSON.stringify(result.errors)}`);
    return result.response.decision === 'allow';
  };
  let agree = 0;
  calls.forEach((call, i) => { if (decide(call) === expected[i]) agree += 1; });
  const times: number[] = [];
  for (let r = 0; r < runs; r += 1) {
    const start = performance.now();
    for (const call of calls) decide(call);
    times.push(performance.now() - start);
  }
  const medianMs = median(times);
  const perSecond = calls.length / (medianMs / 1000);
  return {
    name: `same decisions by Cedar ${cedar.getCedarVersion()}, preparsed (agrees on ${agree}/${calls.length})`,
    backend, n: calls.length, medianMs, perSecond, target: `Tenure ≥ 20x: ${(tenurePerSecond / perSecond).toFixed(0)}x`,
  };
};
