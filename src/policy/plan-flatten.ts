/**
 * The rest of the applied document, flattened generically so that no section can change unseen:
 * every leaf becomes `section.path: value`, identity ids are shown by handle, lists of named things
 * are keyed by name, and lists of plain values keep their order (for reviewers the first one matters).
 */
import { formatDuration } from '../domain/durations.js';
import { isUuid } from '../domain/ids.js';
import type { AppliedPolicy } from '../domain/policy-types.js';

/** The sections flattenSettings (plan.ts) does not describe field by field. */
const GENERIC_SECTIONS = ['accessProfiles', 'breakGlass', 'credentials', 'hr', 'reviews', 'provisioning'] as const satisfies (keyof AppliedPolicy)[];

const POLICY_NAMES: Record<(typeof GENERIC_SECTIONS)[number], string> = {
  accessProfiles: 'access_profiles', breakGlass: 'break_glass', credentials: 'credentials', hr: 'hr', reviews: 'reviews', provisioning: 'provisioning',
};

const keyOf = (item: unknown, index: number): string => {
  const named = item as { name?: unknown; key?: unknown };
  return typeof named.name === 'string' ? named.name : typeof named.key === 'string' ? named.key : String(index);
};

const flattenInto = (value: unknown, path: string, handle: (id: string) => string, out: Record<string, string>): void => {
  if (value === null || value === undefined) return;
  if (Array.isArray(value)) {
    if (value.every((item) => item === null || typeof item !== 'object')) {
      out[path] = value.map((item) => (typeof item === 'string' && isUuid(item) ? handle(item) : String(item))).join(', ');
      return;
    }
    value.forEach((item, i) => flattenInto(item, `${path}.${keyOf(item, i)}`, handle, out));
    return;
  }
  if (typeof value === 'object') {
    for (const key of Object.keys(value).sort()) flattenInto((value as Record<string, unknown>)[key], `${path}.${key}`, handle, out);
    return;
  }
  if (typeof value === 'number' && path.endsWith('Ms')) out[path] = formatDuration(value);
  else out[path] = typeof value === 'string' && isUuid(value) ? handle(value) : String(value);
};

export const flattenGenericSections = (doc: AppliedPolicy, handle: (id: string) => string): Record<string, string> => {
  const out: Record<string, string> = {};
  for (const section of GENERIC_SECTIONS) flattenInto(doc[section], POLICY_NAMES[section], handle, out);
  return out;
};
