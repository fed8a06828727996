import { fileURLToPath } from 'node:url';
import { ManualClock } from '../../src/domain/clock.js';
import type { Context } from '../../src/work/context.js';
import { createEngagement } from '../../src/operations/create-engagement.js';
import { createIdentity, type CreateIdentityInput } from '../../src/operations/create-identity.js';
import { createVendor } from '../../src/operations/create-vendor.js';
import { initTenure } from '../../src/operations/init-tenure.js';
import { applyPolicy } from '../../src/operations/apply-policy.js';
import type { Store } from '../../src/store/database.js';
import { findIdentity } from '../../src/store/queries/identities.js';

export const HOUR = 3_600_000;
export const DAY = 24 * HOUR;
export const LIFECYCLE_POLICY = fileURLToPath(new URL('../fixtures/lifecycle-policy.yaml', import.meta.url));

const PEOPLE: CreateIdentityInput[] = [
  { handle: 'sam', displayName: 'Sam Sponsor', kind: 'employee' },
  { handle: 'olivia', displayName: 'Olivia Owner', kind: 'employee' },
  { handle: 'tom', displayName: 'Tom Technical', kind: 'employee' },
  { handle: 'selma', displayName: 'Selma Security', kind: 'employee' },
  { handle: 'audrey', displayName: 'Audrey Auditor', kind: 'employee' },
  { handle: 'ivan', displayName: 'Ivan IAM', kind: 'employee' },
  { handle: 'eve', displayName: 'Eve Employee', kind: 'employee', manager: 'sam' },
  { handle: 'carl', displayName: 'Carl Contractor', kind: 'contractor', sponsor: 'sam' },
  { handle: 'vera', displayName: 'Vera Vendor', kind: 'vendor_operator', sponsor: 'sam' },
  { handle: 'bot', displayName: 'Reporting bot', kind: 'service_account', owner: 'tom' },
];

/**
 * A small organisation: Ada administers, Sam sponsors Carl (contractor, engaged for payments only)
 * and Vera (no engagement), Olivia and Tom own the systems, Selma is security, Ivan IAM.
 */
export interface World {
  store: Store;
  clock: ManualClock;
  as(handle: string): Promise<Context>;
  worker: Context;
  id(handle: string): Promise<string>;
  engagementId: string;
}

/** `start` sets the world's clock (default 2030-01-01 09:00 UTC); tests with real processes start it at the real time. */
export const buildWorld = async (store: Store, start: Date | string = '2030-01-01T09:00:00.000Z'): Promise<World> => {
  const clock = new ManualClock(start);
  const system: Context = { store, clock, actor: { id: undefined, channel: 'system' } };
  const admin = await initTenure(system, { handle: 'ada', displayName: 'Ada Admin' });
  const adaCtx: Context = { store, clock, actor: { id: admin.id, channel: 'cli', osUser: 'test' } };
  for (const person of PEOPLE) await createIdentity(adaCtx, person);
  await applyPolicy(adaCtx, { path: LIFECYCLE_POLICY });
  await createVendor(adaCtx, { name: 'Acme Integrators', kind: 'system_integrator', relationshipOwner: 'sam', contractEnd: '2030-12-31T00:00:00Z' });
  const engagement = await createEngagement(adaCtx, {
    identity: 'carl', vendor: 'Acme Integrators', businessFunction: 'Finance', purpose: 'Payments migration',
    pattern: 'system_integrator', endsAt: new Date(clock.now().getTime() + 60 * DAY).toISOString(),
    dataSensitivity: 'confidential', scope: ['payments'],
  });
  const id = async (handle: string) => (await findIdentity(store.db, handle)).id;
  return {
    store, clock, engagementId: engagement.id, id,
    as: async (handle) => ({ store, clock, actor: { id: await id(handle), channel: 'cli', osUser: 'test' } }),
    worker: { store, clock, actor: { id: undefined, channel: 'worker' } },
  };
};
