import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { checkEvidence, evidenceNeeded, evidenceRulesFor, stagesWithEvidence, type EvidenceRule } from './evidence.js';

const rule = (name: string, over: Partial<EvidenceRule> = {}): EvidenceRule => ({
  name, when: { tiers: [], kinds: [], patterns: [] }, ticketRequired: false, ticketPattern: null, minJustification: 0,
  extraSecurityStage: false, singleStage: false, maxDurationMs: null, ...over,
});
const privTicket = rule('priv', { when: { tiers: ['privileged'], kinds: [], patterns: [] }, ticketPattern: '^(INC|CHG)-[0-9]+$', minJustification: 20 });
const integrators = rule('si', { when: { tiers: ['standard'], kinds: [], patterns: ['system_integrator'] }, extraSecurityStage: true });
const staffRead = rule('staff-read', { when: { tiers: ['read'], kinds: ['employee'], patterns: [] }, singleStage: true });
const all = [privTicket, integrators, staffRead];

describe('evidence by tier, identity kind and engagement pattern', () => {
  it('a rule applies when every list it names matches; a pattern rule never matches someone with no engagement', () => {
    assert.deepEqual(evidenceRulesFor(all, { tier: 'privileged', kind: 'employee', pattern: null }).map((r) => r.name), ['priv']);
    assert.deepEqual(evidenceRulesFor(all, { tier: 'standard', kind: 'contractor', pattern: 'system_integrator' }).map((r) => r.name), ['si']);
    assert.deepEqual(evidenceRulesFor(all, { tier: 'standard', kind: 'employee', pattern: null }), []);
    assert.deepEqual(evidenceRulesFor(all, { tier: 'read', kind: 'contractor', pattern: 'analyst' }), []);
  });

  it('the strictest of the matching rules is asked for', () => {
    const needed = evidenceNeeded([privTicket, rule('long', { minJustification: 50, ticketRequired: true, maxDurationMs: 7 * 86_400_000 }),
      rule('short', { maxDurationMs: 86_400_000 })]);
    assert.deepEqual(needed, { rules: ['priv', 'long', 'short'], ticketRequired: true, ticketPatterns: ['^(INC|CHG)-[0-9]+$'], minJustification: 50,
      maxDurationMs: 86_400_000 });
  });

  const refusals: [string, { ticket?: string; justification: string }, string | undefined][] = [
    ['no ticket', { justification: 'a long enough justification here' }, 'ticket'],
    ['a ticket not matching the pattern', { ticket: 'FIN-1', justification: 'a long enough justification here' }, 'ticket'],
    ['a pattern matched only in part', { ticket: 'xINC-1', justification: 'a long enough justification here' }, 'ticket'],
    ['a short justification', { ticket: 'INC-42', justification: 'short' }, 'justification'],
    ['a justification padded with spaces', { ticket: 'INC-42', justification: `short${' '.repeat(30)}` }, 'justification'],
    ['everything asked for', { ticket: 'CHG-7', justification: 'a long enough justification here' }, undefined],
  ];
  for (const [name, request, field] of refusals) {
    it(`${name}: ${field ? `refused at ${field}` : 'accepted'}`, () => {
      if (!field) { checkEvidence([privTicket], request); return; }
      assert.throws(() => checkEvidence([privTicket], request), (e: { code: string; field: string; message: string }) =>
        e.code === 'request.evidence_required' && e.field === field && /priv/.test(e.message));
    });
  }

  it('the whole ticket must match a pattern written without anchors', () => {
    const loose = rule('loose', { ticketPattern: 'INC-[0-9]+' });
    assert.throws(() => checkEvidence([loose], { ticket: 'see INC-1 and more', justification: 'x' }), /matching INC-\[0-9\]\+/);
    checkEvidence([loose], { ticket: 'INC-1', justification: 'x' });
  });

  it('security is added when a rule asks; one stage only for low-risk access, never privileged, out of scope, or when security is added', () => {
    assert.deepEqual(stagesWithEvidence(['sponsor', 'system_owner'], [integrators], { tier: 'standard', outOfScope: false }), ['sponsor', 'system_owner', 'security']);
    assert.deepEqual(stagesWithEvidence(['sponsor', 'system_owner', 'security'], [integrators], { tier: 'privileged', outOfScope: false }), ['sponsor', 'system_owner', 'security']);
    assert.deepEqual(stagesWithEvidence(['sponsor', 'system_owner'], [staffRead], { tier: 'read', outOfScope: false }), ['sponsor']);
    assert.deepEqual(stagesWithEvidence(['sponsor', 'system_owner', 'security'], [staffRead], { tier: 'read', outOfScope: true }), ['sponsor', 'system_owner', 'security']);
    assert.deepEqual(stagesWithEvidence(['sponsor', 'system_owner', 'security'], [rule('x', { singleStage: true })], { tier: 'privileged', outOfScope: false }),
      ['sponsor', 'system_owner', 'security']);
    assert.deepEqual(stagesWithEvidence(['sponsor', 'system_owner'], [staffRead, integrators], { tier: 'read', outOfScope: false }), ['sponsor', 'system_owner', 'security']);
  });
});
