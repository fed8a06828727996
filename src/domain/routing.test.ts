import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { excludedFromRequest } from './approval-rules.js';
import { hasDistinctApprovers, routeStages, stagesFor, type StageCandidates } from './routing.js';

const stage = (kind: StageCandidates['kind'], primary: string[], alternates: string[] = []): StageCandidates => ({ kind, primary, alternates });

describe('routing a request to its approvers', () => {
  it('standard access goes to the sponsor then the system owner; privileged or out-of-scope adds security', () => {
    assert.deepEqual(stagesFor('standard', false), ['sponsor', 'system_owner']);
    assert.deepEqual(stagesFor('privileged', false), ['sponsor', 'system_owner', 'security']);
    assert.deepEqual(stagesFor('read', true), ['sponsor', 'system_owner', 'security']);
  });

  it('a sponsor who is also the only system owner does not make both stages look covered', () => {
    assert.equal(hasDistinctApprovers([['sam'], ['sam']]), false);
    assert.equal(hasDistinctApprovers([['sam', 'selma'], ['sam']]), true);
  });

  it('the requester is removed from every stage and their stage falls to the alternates', () => {
    const routed = routeStages([stage('sponsor', ['sam'], ['selma']), stage('system_owner', ['olivia'])], excludedFromRequest('sam', 'carl'));
    assert.deepEqual(routed, [
      { kind: 'sponsor', approverIds: ['selma'], usesAlternates: true },
      { kind: 'system_owner', approverIds: ['olivia'], usesAlternates: false },
    ]);
  });

  it('a route that cannot have a distinct approver per stage is refused (undefined)', () => {
    assert.equal(routeStages([stage('sponsor', ['sam']), stage('system_owner', ['sam'])], excludedFromRequest('carl', 'carl')), undefined);
  });

  it('alternates widen a stage when the primaries collide', () => {
    const routed = routeStages([stage('sponsor', ['sam'], ['ivan']), stage('system_owner', ['sam'])], excludedFromRequest('eve', 'eve'));
    assert.deepEqual(routed?.[0]?.approverIds, ['sam', 'ivan']);
  });

  it('no route ever lists the requester or the beneficiary as an approver (property)', () => {
    const people = fc.constantFrom('a', 'b', 'c', 'd', 'e');
    fc.assert(fc.property(people, people, fc.array(fc.record({ primary: fc.array(people), alternates: fc.array(people) }), { minLength: 1, maxLength: 3 }),
      (requester, beneficiary, stages) => {
        const routed = routeStages(stages.map((s, i) => stage((['sponsor', 'system_owner', 'security'] as const)[i]!, s.primary, s.alternates)),
          excludedFromRequest(requester, beneficiary));
        if (!routed) return true;
        return routed.every((s) => !s.approverIds.includes(requester) && !s.approverIds.includes(beneficiary))
          && hasDistinctApprovers(routed.map((s) => s.approverIds));
      }));
  });
});
