/**
 * Checks that need more than one value at a time: group references, group cycles, entitlement
 * durations against their tier, separation-of-duties rules naming real entitlements. They run on
 * whatever parts of the document parsed, so one broken system does not hide the errors of another.
 */
import { formatDuration } from '../domain/durations.js';
import { IDENTITY_KINDS } from '../domain/model.js';
import { isPrivilegedTarget } from '../domain/provisioning.js';
import type { PathSegment } from './load.js';
import type { PolicyDocument, SystemSpec } from './schema.js';

/** The sections that parsed; `brokenSystems` are systems present but invalid (references to them are not judged). */
export type PartialPolicy = { [K in Exclude<keyof PolicyDocument, 'separation_of_duties'>]?: PolicyDocument[K] } & {
  /** Invalid rules are left as holes so the valid ones keep their index (and so their line). */
  separation_of_duties?: (PolicyDocument['separation_of_duties'][number] | undefined)[];
  brokenSystems: Set<string>;
};

export type Report = (path: PathSegment[], message: string) => void;

export interface PersonRef { path: PathSegment[]; ref: string; role: 'member' | 'holder' | 'alternate' | 'owner' }

/** Every person or group named anywhere, with where it was named. */
export const personRefs = (policy: PartialPolicy): PersonRef[] => {
  const refs: PersonRef[] = [];
  const list = (prefix: PathSegment[], values: readonly string[] | undefined, role: PersonRef['role']) =>
    values?.forEach((ref, i) => refs.push({ path: [...prefix, i], ref, role }));
  for (const [name, members] of Object.entries(policy.groups ?? {})) list(['groups', name], members, 'member');
  for (const [role, holders] of Object.entries(policy.roles ?? {})) list(['roles', role], holders, 'holder');
  for (const [stage, people] of Object.entries(policy.approval?.alternates ?? {})) {
    list(['approval', 'alternates', stage], people, 'alternate');
  }
  list(['break_glass', 'users'], policy.break_glass?.users, 'holder');
  list(['break_glass', 'reviewers'], policy.break_glass?.reviewers, 'holder');
  for (const [key, system] of Object.entries(policy.systems ?? {})) {
    refs.push({ path: ['systems', key, 'business_owner'], ref: system.business_owner, role: 'owner' });
    refs.push({ path: ['systems', key, 'technical_owner'], ref: system.technical_owner, role: 'owner' });
  }
  return refs;
};

export const groupName = (ref: string): string | undefined => (ref.startsWith('group:') ? ref.slice(6) : undefined);

const checkGroupRefs = (policy: PartialPolicy, report: Report): void => {
  if (!policy.groups) return; // the groups section itself is broken: its own errors say so
  for (const { path, ref, role } of personRefs(policy)) {
    const group = groupName(ref);
    if (group === undefined) continue;
    if (role === 'owner') report(path, `must name one person, not a group (${ref})`);
    else if (!(group in policy.groups)) report(path, `unknown group '${group}'`);
  }
};

/** Groups may include groups; a cycle would make membership undefined. */
const checkGroupCycles = (groups: Record<string, string[]>, report: Report): void => {
  const done = new Set<string>();
  const visit = (name: string, trail: string[]): void => {
    if (done.has(name)) return;
    (groups[name] ?? []).forEach((ref, i) => {
      const inner = groupName(ref);
      if (inner === undefined || !(inner in groups)) return;
      const chain = [...trail, name];
      if (chain.includes(inner)) {
        report(['groups', name, i], `group cycle: ${[...chain, inner].slice(chain.indexOf(inner)).join(' → ')}`);
      } else visit(inner, chain);
    });
    done.add(name);
  };
  for (const name of Object.keys(groups)) visit(name, []);
};

/** An entitlement may only shorten its tier's maximum, never lengthen it. */
const checkEntitlementDurations = (policy: PartialPolicy, report: Report): void => {
  if (!policy.durations) return;
  for (const [systemKey, system] of Object.entries(policy.systems ?? {})) {
    for (const [key, entitlement] of Object.entries(system.entitlements)) {
      const tierMax = policy.durations[entitlement.tier].default;
      if (entitlement.max_duration !== undefined && entitlement.max_duration > tierMax) {
        report(['systems', systemKey, 'entitlements', key, 'max_duration'],
          `${formatDuration(entitlement.max_duration)} is longer than the ${entitlement.tier} tier's maximum ` +
          `(${formatDuration(tierMax)}): an entitlement may only shorten it`);
      }
    }
  }
};

/**
 * More privilege, a shorter window: for every kind of identity, privileged access may last no longer than
 * standard, and standard no longer than read. The other way round, the riskiest access would be the
 * one that lingers; reported on the longer tier's value for that kind (or its default, where it applies).
 */
const checkTierOrdering = (durations: PolicyDocument['durations'] | undefined, report: Report): void => {
  if (!durations) return;
  const pairs = [['privileged', 'standard'], ['standard', 'read']] as const;
  const reported = new Set<string>();
  for (const [higher, lower] of pairs) {
    for (const kind of IDENTITY_KINDS) {
      const limitOf = (tier: typeof higher | typeof lower) => durations[tier][kind] ?? durations[tier].default;
      if (limitOf(higher) <= limitOf(lower)) continue;
      const field = durations[higher][kind] === undefined ? 'default' : kind;
      // A default too long is too long for every kind that uses it: said once, on the first.
      if (reported.has(`${higher}.${field}`)) continue;
      reported.add(`${higher}.${field}`);
      report(['durations', higher, field], `${formatDuration(limitOf(higher))} for ${kind} is longer than the ${lower} tier's ` +
        `${formatDuration(limitOf(lower))}: a ${higher} grant may last no longer than a ${lower} one`);
    }
  }
};

const entitlementProblem = (ref: string, systems: Record<string, SystemSpec>, broken: Set<string>): string | undefined => {
  const match = /^([^/]+)\/([^/]+)$/.exec(ref);
  if (!match) return `'${ref}' must be written <system>/<entitlement>`;
  const [, systemKey, entitlementKey] = match as unknown as [string, string, string];
  if (broken.has(systemKey)) return undefined;
  const system = systems[systemKey];
  if (!system) return `unknown system '${systemKey}' (in '${ref}')`;
  if (!(entitlementKey in system.entitlements)) return `unknown entitlement '${ref}'`;
  return undefined;
};

const checkSeparationOfDuties = (policy: PartialPolicy, report: Report): void => {
  const seen = new Map<string, number>();
  (policy.separation_of_duties ?? []).forEach((rule, i) => {
    if (!rule) return;
    const first = seen.get(rule.name);
    if (first !== undefined) report(['separation_of_duties', i, 'name'], `rule '${rule.name}' is defined twice (also rule ${first + 1})`);
    else seen.set(rule.name, i);
    if (new Set(rule.entitlements).size !== rule.entitlements.length) {
      report(['separation_of_duties', i, 'entitlements'], 'must name at least two different entitlements, each once');
    }
    if (!policy.systems) return;
    rule.entitlements.forEach((ref, j) => {
      const problem = entitlementProblem(ref, policy.systems!, policy.brokenSystems);
      if (problem) report(['separation_of_duties', i, 'entitlements', j], problem);
    });
  });
};

/** Birthright is given without approval, so it may only be read or standard access, and never break-glass. */
const checkAccessProfiles = (policy: PartialPolicy, report: Report): void => {
  if (!policy.systems) return;
  for (const [name, profile] of Object.entries(policy.access_profiles ?? {})) {
    profile.entitlements.forEach((ref, i) => {
      const path = ['access_profiles', name, 'entitlements', i];
      const problem = entitlementProblem(ref, policy.systems!, policy.brokenSystems);
      if (problem) { report(path, problem); return; }
      const [systemKey, key] = ref.split('/') as [string, string];
      const entitlement = policy.systems![systemKey]?.entitlements[key];
      if (entitlement?.tier === 'privileged') report(path, `'${ref}' is privileged: privileged access is never birthright`);
      else if (entitlement?.break_glass) report(path, `'${ref}' is break-glass capable: it is never birthright`);
      else if (entitlement?.shared_account) report(path, `'${ref}' is a shared account: it is checked out by one person at a time, never birthright`);
    });
  }
};

/** A profile that gives every side of a separation-of-duties rule would hand a conflict out by birthright. */
const checkProfileConflicts = (policy: PartialPolicy, report: Report): void => {
  for (const [name, profile] of Object.entries(policy.access_profiles ?? {})) {
    for (const rule of policy.separation_of_duties ?? []) {
      if (!rule || !rule.entitlements.every((key) => profile.entitlements.includes(key))) continue;
      report(['access_profiles', name, 'entitlements'], `gives ${rule.entitlements.join(' and ')}, which separation_of_duties rule ` +
        `'${rule.name}' keeps apart: birthright must never hand out a conflict`);
    }
  }
};

/** An entitlement that hands out a built-in or administrative role of its target must say so, and be privileged. */
const checkPrivilegedTargets = (policy: PartialPolicy, report: Report): void => {
  for (const [systemKey, system] of Object.entries(policy.systems ?? {})) {
    const type = system.connector?.type;
    if (!type) continue;
    for (const [key, e] of Object.entries(system.entitlements)) {
      const target = e.target ?? key;
      const path = ['systems', systemKey, 'entitlements', key, e.target ? 'target' : 'tier'];
      const adminGroups = system.connector?.type === 'ldap' ? system.connector.admin_groups : undefined;
      if (!isPrivilegedTarget(type, target, adminGroups)) continue;
      if (!e.privileged_target) {
        report(path, `'${target}' is a built-in or administrative role of the target: say privileged_target: true on purpose, at tier privileged`);
      } else if (e.tier !== 'privileged') {
        report(['systems', systemKey, 'entitlements', key, 'tier'], `'${target}' is a built-in or administrative role: its tier must be privileged`);
      }
    }
  }
};

const checkCampaignSystems = (policy: PartialPolicy, report: Report): void => {
  if (!policy.systems) return;
  for (const [name, campaign] of Object.entries(policy.reviews?.campaigns ?? {})) {
    if (campaign.system && !(campaign.system in policy.systems) && !policy.brokenSystems.has(campaign.system)) {
      report(['reviews', 'campaigns', name, 'system'], `unknown system '${campaign.system}'`);
    }
  }
};

export const checkReferences = (policy: PartialPolicy, report: Report): void => {
  checkAccessProfiles(policy, report);
  checkProfileConflicts(policy, report);
  checkPrivilegedTargets(policy, report);
  checkCampaignSystems(policy, report);
  checkGroupRefs(policy, report);
  if (policy.groups) checkGroupCycles(policy.groups, report);
  checkEntitlementDurations(policy, report);
  checkTierOrdering(policy.durations, report);
  checkSeparationOfDuties(policy, report);
};
