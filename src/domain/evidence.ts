/**
 * Evidence by tier, identity kind and engagement pattern: what a request must carry (a ticket, one
 * that matches a pattern, a justification of some length) and how many people look at it (a security
 * stage added, or one stage for low-risk access). Every rule whose `when` matches applies; a list left
 * empty in `when` matches anything. Pure: the policy resolves the rules, callers give the subject.
 */
import { TenureError } from './errors.js';
import type { EngagementPattern, IdentityKind, StageKind, Tier } from './model.js';
import { checkMaxDuration, type Window } from './window.js';

export interface EvidenceRule {
  name: string;
  when: { tiers: Tier[]; kinds: IdentityKind[]; patterns: EngagementPattern[] };
  ticketRequired: boolean;
  /** A regular expression the whole ticket must match (implies a ticket is required). */
  ticketPattern: string | null;
  minJustification: number;
  /** Security decides too, whatever the tier. */
  extraSecurityStage: boolean;
  /** One stage (the sponsor, manager or owner) is enough: never for privileged access, nor out of scope. */
  singleStage: boolean;
  /** A shorter maximum window than the durations section gives (say, for short-term developers). */
  maxDurationMs: number | null;
}

export interface EvidenceSubject { tier: Tier; kind: IdentityKind; pattern: EngagementPattern | null }

const matches = (rule: EvidenceRule, s: EvidenceSubject): boolean =>
  (rule.when.tiers.length === 0 || rule.when.tiers.includes(s.tier)) &&
  (rule.when.kinds.length === 0 || rule.when.kinds.includes(s.kind)) &&
  (rule.when.patterns.length === 0 || (s.pattern !== null && rule.when.patterns.includes(s.pattern)));

export const evidenceRulesFor = (rules: readonly EvidenceRule[], subject: EvidenceSubject): EvidenceRule[] =>
  rules.filter((rule) => matches(rule, subject));

/** What the matching rules ask of a request, merged: the strictest of each. */
export interface EvidenceNeeded {
  rules: string[]; ticketRequired: boolean; ticketPatterns: string[]; minJustification: number; maxDurationMs: number | null;
}

/** The shortest maximum window of the matching rules, and the rule that sets it; undefined when none sets one. */
export const evidenceMaximum = (matched: readonly EvidenceRule[]): { ms: number; rule: string } | undefined =>
  matched.reduce<{ ms: number; rule: string } | undefined>((best, r) =>
    (r.maxDurationMs !== null && (!best || r.maxDurationMs < best.ms) ? { ms: r.maxDurationMs, rule: r.name } : best), undefined);

export const evidenceNeeded = (matched: readonly EvidenceRule[]): EvidenceNeeded => ({
  rules: matched.map((r) => r.name),
  ticketRequired: matched.some((r) => r.ticketRequired || r.ticketPattern !== null),
  ticketPatterns: matched.flatMap((r) => (r.ticketPattern === null ? [] : [r.ticketPattern])),
  minJustification: Math.max(0, ...matched.map((r) => r.minJustification)),
  maxDurationMs: evidenceMaximum(matched)?.ms ?? null,
});

/** Refuses a window longer than the shortest maximum the matching rules set (the durations section is checked apart). */
export const checkEvidenceDuration = (matched: readonly EvidenceRule[], window: Window, now: Date): void => {
  const shorter = evidenceMaximum(matched);
  if (shorter) checkMaxDuration(window, now, shorter.ms, `access under evidence rule ${shorter.rule}`);
};

/** Refuses a request that lacks what the matching rules ask for, naming the field and the rule. */
export const checkEvidence = (matched: readonly EvidenceRule[], request: { ticket?: string | null | undefined; justification: string }): void => {
  for (const rule of matched) {
    const needsTicket = rule.ticketRequired || rule.ticketPattern !== null;
    if (needsTicket && !request.ticket) {
      throw new TenureError('request.evidence_required', `ticket: evidence rule ${rule.name} requires a ticket for this access`, { field: 'ticket' });
    }
    // The whole ticket must match, anchored or not as written: `INC-[0-9]+` does not pass "see INC-1 and more".
    if (rule.ticketPattern !== null && !new RegExp(`^(?:${rule.ticketPattern})$`).test(request.ticket ?? '')) {
      throw new TenureError('request.evidence_required', `ticket: evidence rule ${rule.name} requires a ticket matching ${rule.ticketPattern}`, { field: 'ticket' });
    }
    if (request.justification.trim().length < rule.minJustification) {
      throw new TenureError('request.evidence_required',
        `justification: evidence rule ${rule.name} requires at least ${rule.minJustification} characters`, { field: 'justification' });
    }
  }
};

/**
 * The stages after the evidence rules: security added when a rule asks for it; cut to the first stage
 * when a rule allows one and nothing else (privileged, out of scope, a rule adding security) needs more.
 */
export const stagesWithEvidence = (base: readonly StageKind[], matched: readonly EvidenceRule[], subject: { tier: Tier; outOfScope: boolean }): StageKind[] => {
  if (matched.some((r) => r.extraSecurityStage)) return base.includes('security') ? [...base] : [...base, 'security'];
  const single = matched.some((r) => r.singleStage) && subject.tier !== 'privileged' && !subject.outOfScope;
  return single ? base.slice(0, 1) : [...base];
};
