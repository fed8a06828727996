/**
 * What the decision point needs from the policy beyond the catalogue tables: each entitlement's
 * actions and conditions. `policy apply` stores them in the applied document (policy_state) under
 * `decision`, keyed by entitlement key; the decision index reads them from there. Pure.
 */
import { formatDuration } from './durations.js';
import type { ConditionSpec } from './decision-conditions.js';

export interface DecisionAttributes { actions?: string[]; conditions?: ConditionSpec }

/** Entitlement key (`system/entitlement`) → attributes; only entitlements that have any are listed. */
export type DecisionSettings = Record<string, DecisionAttributes>;

/** The parts of a validated policy document read here (policy/schema.ts PolicyDocument has them). */
export interface SystemsWithEntitlements {
  systems: Record<string, { entitlements: Record<string, { actions?: string[] | undefined; conditions?: ConditionSpec | undefined }> }>;
}

/** The `decision` part of the applied document, from a validated policy document. */
export const decisionSettingsOf = (document: SystemsWithEntitlements): DecisionSettings => {
  const settings: DecisionSettings = {};
  for (const [systemKey, system] of Object.entries(document.systems)) {
    for (const [name, entitlement] of Object.entries(system.entitlements)) {
      const attributes: DecisionAttributes = {};
      if (entitlement.actions && entitlement.actions.length > 0) attributes.actions = [...new Set(entitlement.actions)];
      if (entitlement.conditions && Object.keys(entitlement.conditions).length > 0) attributes.conditions = entitlement.conditions;
      if (attributes.actions || attributes.conditions) settings[`${systemKey}/${name}`] = attributes;
    }
  }
  return settings;
};

const describeConditions = (c: ConditionSpec): string => {
  const parts: string[] = [];
  if (c.mfa) parts.push('mfa');
  if (c.mfa_max_age !== undefined) parts.push(`mfa within ${formatDuration(c.mfa_max_age)}`);
  if (c.trusted_device) parts.push('trusted_device');
  if (c.ticket) parts.push('ticket');
  if (c.hours) {
    parts.push(`hours ${c.hours.from}-${c.hours.to} ${c.hours.timezone ?? 'UTC'}${c.hours.days ? ` ${c.hours.days.join(',')}` : ''}`);
  }
  if (c.source_cidrs) parts.push(`source ${c.source_cidrs.join(',')}`);
  return parts.join('; ');
};

/**
 * The settings as flat, displayable fields (`decision.payments/admin.conditions`), so a policy plan
 * shows a changed condition field by field like any other setting.
 */
export const flattenDecisionSettings = (settings: DecisionSettings | undefined): Record<string, string> => {
  const flat: Record<string, string> = {};
  for (const key of Object.keys(settings ?? {}).sort()) {
    const attributes = settings![key]!;
    if (attributes.actions) flat[`decision.${key}.actions`] = [...attributes.actions].sort().join(', ');
    if (attributes.conditions) flat[`decision.${key}.conditions`] = describeConditions(attributes.conditions);
  }
  return flat;
};
