import { readFileSync } from 'node:fs';
import { parse, stringify } from 'yaml';
import type { z } from 'zod';
import { ingestHrEvents, type HrEventInput } from '../../src/operations/ingest-hr-events.js';
import type { HrAttributes } from '../../src/domain/hr.js';
import { applyPolicyText } from './provisioning-world.js';
import { LIFECYCLE_POLICY, type World } from './world.js';

/**
 * The lifecycle policy with birthright: Finance gets payments/read and crm/read, Finance's payment
 * clerks also payments/initiate, Sales gets crm/read. The brake holds a batch suspending more than
 * 5% of people and more than 2. `extra` is merged into the hr section.
 */
export const hrPolicy = (extra: Record<string, unknown> = {}): string => {
  const doc = parse(readFileSync(LIFECYCLE_POLICY, 'utf8')) as Record<string, unknown>;
  doc.access_profiles = {
    finance: { match: { department: ['Finance'] }, entitlements: ['payments/read', 'crm/read'] },
    'payment-clerks': { match: { department: ['Finance'], title: ['Payments Clerk'] }, entitlements: ['payments/initiate'] },
    sales: { match: { department: ['Sales'] }, entitlements: ['crm/read'] },
  };
  doc.hr = { brake: { share: '5%', minimum: 2 }, reassign_within: '14d', mover_review_within: '7d', ...extra };
  return stringify(doc);
};

export const applyHrPolicy = (w: World, extra: Record<string, unknown> = {}) => applyPolicyText(w, hrPolicy(extra));

type EventIn = z.input<typeof HrEventInput>;
let serial = 0;

/** One HR event from `workday` (unless said otherwise), effective now on the world's clock. */
export const hrEvent = (w: World, type: EventIn['type'], employeeId: string, attributes: HrAttributes = {}, more: Partial<EventIn> = {}): EventIn => ({
  source: 'workday', id: `evt-${(serial += 1)}`, type, employee_id: employeeId, effective_at: w.clock.now().toISOString(), attributes, ...more,
});

/** Sends events as IAM (Ivan) through the use case the API calls. */
export const sendHr = async (w: World, events: EventIn[], as = 'ivan', dryRun = false) =>
  ingestHrEvents(await w.as(as), { events, dryRun });
