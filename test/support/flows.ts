import { sql } from 'drizzle-orm';
import { approveRequest } from '../../src/operations/approve-request.js';
import { createRequest, type CreateRequestInput } from '../../src/operations/create-request.js';
import type { Executor } from '../../src/store/database.js';
import type { World } from './world.js';

/** Files a request and walks it through every stage with the given approvers, returning the grant id. */
export const grantThrough = async (w: World, requester: string, input: CreateRequestInput, approvers: string[]): Promise<string> => {
  const request = await createRequest(await w.as(requester), input);
  let grantId: string | null = null;
  for (const approver of approvers) grantId = (await approveRequest(await w.as(approver), { request: request.id })).grantId;
  if (!grantId) throw new Error(`request ${request.id} was not fully approved by ${approvers.join(', ')}`);
  return grantId;
};

/**
 * Seeds `n` active grants of Carl's that ended a minute ago (one INSERT … SELECT), so one lifecycle
 * pass has exactly `n` grants to expire, with one audit event each.
 */
export const seedDueGrants = async (exec: Executor, w: World, n: number): Promise<void> => {
  const carl = await w.id('carl');
  const now = w.clock.now().toISOString();
  await exec.execute(sql`
    INSERT INTO grants (id, identity_id, entitlement_id, origin, starts_at, ends_at, status, provisioning_state, created_at)
    SELECT gen_random_uuid(), ${carl}, e.id, 'birthright', ${now}::timestamptz - interval '2 hours',
           ${now}::timestamptz - interval '1 minute', 'active', 'provisioned', ${now}
    FROM generate_series(1, ${n}) s, (SELECT id FROM entitlements WHERE key = 'payments/read') e`);
};
