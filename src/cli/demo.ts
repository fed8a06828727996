import { fileURLToPath } from 'node:url';
import { sql } from 'drizzle-orm';
import { TenureError } from '../domain/errors.js';
import type { Context } from '../work/context.js';
import { applyPolicy } from '../operations/apply-policy.js';
import { approveRequest } from '../operations/approve-request.js';
import { createEngagement } from '../operations/create-engagement.js';
import { createIdentity, type CreateIdentityInput } from '../operations/create-identity.js';
import { createRequest } from '../operations/create-request.js';
import { createVendor } from '../operations/create-vendor.js';
import { initTenure } from '../operations/init-tenure.js';
import { scanCredentials } from '../jobs/credentials.js';
import { registerCredential } from '../operations/register-credential.js';
import { rawRows } from '../store/database.js';
import { findIdentity } from '../store/queries/identities.js';
import { DAY, playHistory, storyClock } from './demo-history.js';

export const DEMO_POLICY = fileURLToPath(new URL('../../examples/demo-policy.yaml', import.meta.url));


/**
 * Demo people have email addresses (under the reserved .example domain) so that an OpenID provider
 * vouching for the same address signs them in to the console (docs/authentication.md).
 */
const DEMO_ADMIN_EMAIL = 'ada@tenure-demo.example';

const PEOPLE: CreateIdentityInput[] = [
  { handle: 'sam', email: 'sam@tenure-demo.example', displayName: 'Sam Sponsor', kind: 'employee', department: 'Finance', title: 'Finance systems lead' },
  { handle: 'olivia', email: 'olivia@tenure-demo.example', displayName: 'Olivia Owner', kind: 'employee', department: 'Finance', title: 'Head of payments' },
  { handle: 'tom', email: 'tom@tenure-demo.example', displayName: 'Tom Technical', kind: 'employee', department: 'Engineering', title: 'Database engineer' },
  { handle: 'selma', email: 'selma@tenure-demo.example', displayName: 'Selma Security', kind: 'employee', department: 'Security', title: 'Security engineer' },
  { handle: 'audrey', email: 'audrey@tenure-demo.example', displayName: 'Audrey Auditor', kind: 'employee', department: 'Internal audit', title: 'IT auditor' },
  { handle: 'ivan', email: 'ivan@tenure-demo.example', displayName: 'Ivan IAM', kind: 'employee', department: 'IT', title: 'IAM engineer' },
  { handle: 'carl', email: 'carl@acme-integrators.example', displayName: 'Carl Contractor', kind: 'contractor', sponsor: 'sam', manager: 'sam' },
  { handle: 'vera', email: 'vera@northwind.example', displayName: 'Vera Vendor', kind: 'vendor_operator', sponsor: 'olivia' },
  { handle: 'report-bot', displayName: 'Nightly reporting job', kind: 'service_account', owner: 'tom' },
];

export const DEMO_PERSONAS = [
  ['ada', 'administrator and IAM operator'], ['sam', "sponsor of Carl (contractor)"], ['olivia', 'business owner of payments and crm'],
  ['tom', 'technical owner'], ['selma', 'security approver'], ['audrey', 'auditor (read-only)'], ['ivan', 'IAM engineer (HR imports)'],
  ['carl', 'contractor at Acme Integrators'], ['vera', 'vendor operator at Northwind Support'],
] as const;

const isEmpty = async (ctx: Context) =>
  ((await rawRows<{ n: number }>(ctx.store.db, sql`SELECT count(*)::int AS n FROM identities`))[0]?.n ?? 0) === 0;

/** Loads the demo organisation into an empty database: policy, people, vendors, engagements, three weeks of history, requests. */
export const loadDemo = async (real: Context, options: { ifEmpty: boolean }): Promise<{ loaded: boolean; message: string }> => {
  if (!(await isEmpty(real))) {
    if (options.ifEmpty) return { loaded: false, message: 'the database already has data; demo not loaded' };
    // npm start loads the demo too: someone following the README after it needs the way on, not only the refusal.
    const fresh = real.store.backend === 'embedded' ? 'a fresh directory: export TENURE_DATA_DIR=$(mktemp -d) and run tenure demo again'
      : 'an empty database named by DATABASE_URL';
    throw new TenureError('setup.already_initialised', `${real.store.location} already has data (npm start loads the demo into it). `
      + `Use it as it is (tenure demo --if-empty leaves it alone), or load the demo into ${fresh}`);
  }
  const now = real.clock.now().getTime();
  // The organisation is set up three weeks ago and lives through its history to now (demo-history.ts).
  const clock = storyClock(new Date(now));
  const system: Context = { ...real, clock };
  const admin = await initTenure(system, { handle: 'ada', displayName: 'Ada Admin', email: DEMO_ADMIN_EMAIL });
  const as = async (handle: string): Promise<Context> =>
    ({ ...system, actor: { ...system.actor, id: (await findIdentity(system.store.db, handle)).id, channel: 'cli' } });
  const ada: Context = { ...system, actor: { ...system.actor, id: admin.id, channel: 'cli' } };
  for (const person of PEOPLE) await createIdentity(ada, person);
  // Its tests describe Carl's engagement and Vera's, made just below: `tenure policy test` runs them once the demo is loaded.
  await applyPolicy(ada, { path: DEMO_POLICY }, { runTests: false });
  const iso = (days: number) => new Date(now + days * DAY).toISOString();
  await createVendor(ada, { name: 'Acme Integrators', kind: 'system_integrator', relationshipOwner: 'sam', contractEnd: iso(365) });
  await createVendor(ada, { name: 'Northwind Support', kind: 'managed_service_provider', relationshipOwner: 'olivia', contractEnd: iso(180) });
  await createEngagement(ada, { identity: 'carl', vendor: 'Acme Integrators', businessFunction: 'Finance', purpose: 'Migrate payment batches to the new platform',
    pattern: 'system_integrator', endsAt: iso(90), dataSensitivity: 'confidential', scope: ['payments'] });
  await createEngagement(ada, { identity: 'vera', vendor: 'Northwind Support', businessFunction: 'Customer service', purpose: 'Second-line CRM support',
    pattern: 'managed_service', endsAt: iso(30), dataSensitivity: 'internal', scope: ['crm'] });
  const worker: Context = { ...system, actor: { id: undefined, channel: 'worker' } };
  await playHistory({ clock, as, worker }, now);
  await registerCredential(await as('tom'), { identity: 'report-bot', kind: 'api_key', name: 'Warehouse export key', system: 'payments',
    fingerprint: 'SHA256:ZXA7YBEgohDr6jEnozjtnDGBBKJrFAb1Ls3nAVdEvyA', createdAt: iso(-120) });
  await scanCredentials(worker);
  const veraRequest = await createRequest(await as('vera'), { entitlement: 'crm/read', justification: 'Answer escalated tickets', ticket: 'SUP-1042', duration: '14d' });
  await approveRequest(await as('olivia'), { request: veraRequest.id, comment: 'as agreed in the contract' });
  await approveRequest(await as('tom'), { request: veraRequest.id });
  await createRequest(await as('carl'), { entitlement: 'payments/initiate', justification: 'Load test batches in staging', ticket: 'FIN-88', duration: '7d' });
  return { loaded: true, message: 'demo loaded' };
};
