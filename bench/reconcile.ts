/**
 * Reconciliation at scale: 100,000 accounts in the target against 100,000 live grants, with 1%
 * missing access and 1% orphan accounts (2,000 findings). The target's listing comes from memory so
 * that the number is Tenure's own work: loading the expectations, the comparison, and the findings.
 */
import { sql } from 'drizzle-orm';
import type { AccessEntry, Connector } from '../src/connectors/contract.js';
import { runReconciliation } from '../src/operations/lib/provisioning/reconcile.js';
import type { Store } from '../src/store/database.js';
import { readFileSync } from 'node:fs';
import { parse, stringify } from 'yaml';
import { applyPolicyText } from '../test/support/provisioning-world.js';
import { buildWorld, LIFECYCLE_POLICY, type World } from '../test/support/world.js';
import { measure, type BenchResult } from './report.js';

const listing = (entries: AccessEntry[]): Connector => ({
  kind: 'memory', provision: async () => ({ changed: false }), deprovision: async () => ({ changed: false }),
  listAccess: async () => entries, check: async () => ({ ok: true, detail: 'in memory' }),
});

/** n people `rb<i>` each holding payments/read (provisioned), in two INSERT … SELECT statements. */
const seed = async (store: Store, n: number): Promise<void> => {
  await store.db.execute(sql`
    INSERT INTO identities (id, handle, display_name, kind, status, created_at, updated_at)
    SELECT gen_random_uuid(), 'rb' || i, 'Bench ' || i, 'employee', 'active', now(), now() FROM generate_series(1, ${n}) i`);
  await store.db.execute(sql`
    INSERT INTO grants (id, identity_id, entitlement_id, origin, starts_at, ends_at, status, provisioning_state, created_at)
    SELECT gen_random_uuid(), i.id, e.id, 'birthright', now() - interval '1 day', now() + interval '30 days', 'active', 'provisioned', now()
      FROM identities i, (SELECT id FROM entitlements WHERE key = 'payments/read') e WHERE i.handle LIKE 'rb%'`);
};

/** The test organisation, with a connector on payments (never called: the benchmark lists from memory). */
export const buildProvisioningBenchWorld = async (store: Store): Promise<World> => {
  const w = await buildWorld(store);
  const doc = parse(readFileSync(LIFECYCLE_POLICY, 'utf8')) as { systems: Record<string, Record<string, unknown>> };
  doc.systems.payments!.connector = { type: 'postgres-roles', url: 'env:TENURE_BENCH_UNUSED_URL', role_prefix: 't_' };
  await applyPolicyText(w, stringify(doc));
  return w;
};

export const benchReconcile = async (store: Store, w: World, backend: string, n: number, runs: number): Promise<BenchResult> => {
  await seed(store, n);
  const drift = Math.floor(n / 100);
  const entries: AccessEntry[] = [];
  // Every grant shows in the target except the first 1%; 1% more are accounts of nobody.
  for (let i = drift + 1; i <= n; i += 1) entries.push({ account: `t_rb${i}`, identityHandle: `rb${i}`, entitlement: 'read' });
  for (let i = 1; i <= drift; i += 1) entries.push({ account: `t_nobody${i}`, identityHandle: `nobody${i}`, entitlement: 'read' });
  const connector = listing(entries);
  return measure('reconcile accounts against grants', backend, n, runs, async () => { w.clock.advance(60_000); }, async () => {
    const result = await runReconciliation(w.worker, 'payments', { connector, revoke: false });
    if ((result.drift.grant_without_access ?? 0) !== drift || (result.drift.orphan_account ?? 0) !== drift) {
      throw new Error(`unexpected drift ${JSON.stringify(result.drift)}`);
    }
  }, '100,000 in seconds');
};
