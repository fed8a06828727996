/** The policy's `evidence:` section: what a request must carry, by tier, identity kind and engagement pattern (see domain/evidence.ts). */
import { z } from 'zod';
import type { EvidenceRule } from '../domain/evidence.js';
import { ENGAGEMENT_PATTERNS, IDENTITY_KINDS, TIERS } from '../domain/model.js';
import { durationMs } from './duration-schema.js';

const pattern = z.string().min(1, 'must not be empty').refine((value) => {
  try { new RegExp(value); return true; } catch { return false; }
}, 'must be a regular expression');

export const evidenceRuleSchema = z.strictObject({
  /** Which requests the rule is for; a list left out matches anything. */
  when: z.strictObject({
    tier: z.array(z.enum(TIERS)).min(1).optional(),
    kind: z.array(z.enum(IDENTITY_KINDS)).min(1).optional(),
    pattern: z.array(z.enum(ENGAGEMENT_PATTERNS)).min(1).optional(),
  }).default({}),
  /** `true`: a ticket is required; a regular expression: one matching it is. */
  ticket: z.union([z.literal(true), pattern]).optional(),
  min_justification: z.number().int().min(1).max(2000).optional(),
  extra_stage: z.literal('security').optional(),
  single_stage: z.literal(true).optional(),
  max_duration: durationMs.optional(),
}).superRefine((rule, ctx) => {
  const tiers = rule.when.tier ?? TIERS;
  if (rule.single_stage && tiers.includes('privileged')) {
    ctx.addIssue({ code: 'custom', path: ['single_stage'],
      message: 'privileged access always has every stage: name the tiers this is for (when.tier: [read] or [read, standard])' });
  }
  if (rule.single_stage && rule.extra_stage) {
    ctx.addIssue({ code: 'custom', path: ['single_stage'], message: 'a rule cannot both add a stage and allow a single one' });
  }
});

export type EvidenceRuleSpec = z.output<typeof evidenceRuleSchema>;

export const evidenceRulesOf = (rules: Record<string, EvidenceRuleSpec>): EvidenceRule[] =>
  Object.entries(rules).map(([name, r]) => ({
    name,
    when: { tiers: r.when.tier ?? [], kinds: r.when.kind ?? [], patterns: r.when.pattern ?? [] },
    ticketRequired: r.ticket !== undefined,
    ticketPattern: typeof r.ticket === 'string' ? r.ticket : null,
    minJustification: r.min_justification ?? 0,
    extraSecurityStage: r.extra_stage === 'security',
    singleStage: r.single_stage === true,
    maxDurationMs: r.max_duration ?? null,
  }));
