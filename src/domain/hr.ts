import { isUuid } from './ids.js';

/**
 * HR events: the vocabulary of the feed and the pure rules that turn an event into a change.
 * HR is authoritative for employment; what Tenure does with each event is decided here and
 * applied by operations/lib/hr/apply.ts.
 */
export const HR_EVENT_TYPES = ['hire', 'change', 'leave'] as const;
export type HrEventType = (typeof HR_EVENT_TYPES)[number];

/** `scheduled`: effective later; `superseded`: arrived after a newer event from the same source for the person. */
export const HR_EVENT_STATUSES = ['scheduled', 'applied', 'superseded', 'held', 'discarded'] as const;
export type HrEventStatus = (typeof HR_EVENT_STATUSES)[number];
/** A batch the suspension brake held: security confirms or discards it. */
export const HR_BATCH_STATUSES = ['held', 'confirmed', 'discarded'] as const;
export type HrBatchStatus = (typeof HR_BATCH_STATUSES)[number];

/** The attributes an HR event carries; every one optional on `change` and `leave` (only what changed). */
export interface HrAttributes {
  name?: string;
  email?: string;
  /** The manager's employee id in the same source. */
  manager?: string;
  department?: string;
  title?: string;
  location?: string;
  employment_class?: string;
  start_date?: string;
  end_date?: string;
}

/** Attributes two sources may disagree on; a disagreement is a finding and neither value wins silently. */
export const MATCHED_ATTRIBUTES = ['name', 'email', 'manager', 'department', 'title', 'location', 'employment_class', 'end_date'] as const;
export type MatchedAttribute = (typeof MATCHED_ATTRIBUTES)[number];

/** An access profile: people whose attributes match every listed attribute get its entitlements as birthright. */
export interface AccessProfile {
  name: string;
  /** Attribute → accepted values; an attribute not listed is not looked at. */
  match: Partial<Record<'department' | 'title' | 'location' | 'employment_class', string[]>>;
  entitlements: string[];
}

export interface HrSettings {
  /** When set, events from any other source are refused. */
  sources: string[] | null;
  /** Employment classes that make a person a contractor rather than an employee. */
  contractorClasses: string[];
  /** The suspension brake: a batch that would suspend more than `share` of active people, and more than `minimum`, is held. */
  brake: { share: number; minimum: number };
  /** How long a leaver's manager has to re-assign what the leaver owned or sponsored. */
  reassignWithinMs: number;
  /** When a mover's review of non-birthright access is due. */
  moverReviewWithinMs: number;
  /** A leave processed later than this after it took effect is a `late_termination` finding. */
  lateAfterMs: number;
}

const DAY = 24 * 3_600_000;
export const DEFAULT_HR_SETTINGS: HrSettings = {
  sources: null,
  contractorClasses: ['contractor', 'contingent'],
  brake: { share: 0.05, minimum: 5 },
  reassignWithinMs: 14 * DAY,
  moverReviewWithinMs: 7 * DAY,
  lateAfterMs: 3_600_000,
};

type ProfileAttributes = Pick<HrAttributes, 'department' | 'title' | 'location' | 'employment_class'>;

/** The profiles whose every condition the attributes meet (case-insensitive: HR systems are not consistent about case). */
export const matchingProfiles = (profiles: readonly AccessProfile[], attributes: ProfileAttributes): AccessProfile[] =>
  profiles.filter((profile) => Object.entries(profile.match).every(([attribute, accepted]) => {
    const value = attributes[attribute as keyof ProfileAttributes]?.toLowerCase();
    return value !== undefined && (accepted ?? []).some((a) => a.toLowerCase() === value);
  }));

/** The birthright entitlement keys for these attributes, each once. */
export const birthrightFor = (profiles: readonly AccessProfile[], attributes: ProfileAttributes): string[] =>
  [...new Set(matchingProfiles(profiles, attributes).flatMap((p) => p.entitlements))].sort();

/** Whether a batch's suspensions trip the brake: more than the share of the active population, and more than the minimum. */
export const tripsSuspensionBrake = (wouldSuspend: number, population: number, brake: HrSettings['brake']): boolean =>
  wouldSuspend > brake.minimum && wouldSuspend > brake.share * population;

/** Contractors come from the same feed as employees, told apart by their employment class. */
export const kindForClass = (employmentClass: string | undefined, contractorClasses: readonly string[]): 'employee' | 'contractor' =>
  employmentClass !== undefined && contractorClasses.some((c) => c.toLowerCase() === employmentClass.toLowerCase()) ? 'contractor' : 'employee';

export interface AttributeConflict { attribute: MatchedAttribute; value: string; otherSource: string; otherValue: string }

/**
 * What the other sources that describe the same person say differently. An attribute one source
 * sets and another disagrees on is not applied: which is right is a question for a person.
 */
export const attributeConflicts = (
  incoming: HrAttributes, others: readonly { source: string; attributes: HrAttributes }[],
): AttributeConflict[] => {
  const conflicts: AttributeConflict[] = [];
  for (const attribute of MATCHED_ATTRIBUTES) {
    const value = incoming[attribute];
    if (value === undefined) continue;
    for (const other of others) {
      const otherValue = other.attributes[attribute];
      // Manager ids are each source's own employee ids, so they cannot be compared across sources.
      if (attribute === 'manager' || otherValue === undefined) continue;
      if (otherValue.trim().toLowerCase() !== value.trim().toLowerCase()) conflicts.push({ attribute, value, otherSource: other.source, otherValue });
    }
  }
  return conflicts;
};

/** Attributes that, when they change, make the person a mover: their birthright is recomputed and the rest reviewed. */
export const MOVER_ATTRIBUTES = ['department', 'title', 'location', 'employment_class', 'manager'] as const;

export const movedOn = (before: HrAttributes, after: HrAttributes): string[] =>
  MOVER_ATTRIBUTES.filter((a) => after[a] !== undefined && (before[a] ?? '').toLowerCase() !== after[a]!.toLowerCase());

/** A handle from the email's local part (else the name), made of the characters handles allow. */
const handleBase = (attributes: HrAttributes, employeeId: string): string => {
  const raw = attributes.email?.split('@')[0] ?? attributes.name ?? employeeId;
  const cleaned = raw.toLowerCase().replace(/[^a-z0-9._-]+/g, '.').replace(/^[^a-z0-9]+/, '').slice(0, 48);
  return cleaned.length >= 2 ? cleaned : `hr-${employeeId.toLowerCase().replace(/[^a-z0-9]+/g, '')}`.slice(0, 48);
};

/** The handles to try, in order: the plain one, then with the employee id, then with `nonce` (random) as a last resort. */
export const handleCandidates = (attributes: HrAttributes, employeeId: string, nonce: string): string[] => {
  const base = handleBase(attributes, employeeId);
  const candidates = [base, `${base.slice(0, 40)}-${employeeId.toLowerCase().replace(/[^a-z0-9]+/g, '')}`.slice(0, 63), `${base.slice(0, 40)}-${nonce}`];
  // A UUID-shaped handle (an e-mail whose local part is a UUID) would read as an id: skip it. The last candidate never is one.
  return candidates.filter((candidate) => !isUuid(candidate));
};
