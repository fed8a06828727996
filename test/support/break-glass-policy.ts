import { readFileSync } from 'node:fs';
import { parse, stringify } from 'yaml';
import { LIFECYCLE_POLICY } from './world.js';

/** The lifecycle policy, with payments/admin break-glass capable for Eve, Olivia, Carl and Sam, reviewed by secops when needed. */
export const breakGlassPolicy = (): string => {
  const doc = parse(readFileSync(LIFECYCLE_POLICY, 'utf8')) as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- a YAML document edited in place
  doc.systems.payments.entitlements.admin.break_glass = true;
  doc.break_glass = { users: ['eve', 'olivia', 'carl', 'sam'], reviewers: ['group:secops'], max_ttl: '2h' };
  return stringify(doc);
};
