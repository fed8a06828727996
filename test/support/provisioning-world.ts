import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { parse, stringify } from 'yaml';
import { applyPolicy } from '../../src/operations/apply-policy.js';
import type { Store } from '../../src/store/database.js';
import { startScramPostgres, type ScramCluster } from './scram-postgres.js';
import { buildWorld, LIFECYCLE_POLICY, type World } from './world.js';

/**
 * A target for provisioning tests: a private scram PostgreSQL cluster whose roles stand for the
 * payments system's entitlements, referenced from the policy by environment variable.
 */
export interface PgTarget {
  cluster: ScramCluster;
  /** Login roles are `<prefix><handle>`. */
  prefix: string;
  /** Entitlement name in the policy → role in the cluster. */
  roles: { read: string; initiate: string; approve: string; admin: string };
  urlVar: string;
  deadVar: string;
  admin<T>(work: (client: pg.Client) => Promise<T>): Promise<T>;
  /** The (login role, entitlement role) memberships Tenure manages, read straight from the catalogue. */
  memberships(): Promise<string[]>;
  stop(): Promise<void>;
}

export const startPgTarget = async (): Promise<PgTarget> => {
  const cluster = await startScramPostgres();
  const run = `t${process.pid}_${Date.now().toString(36)}`;
  const prefix = `${run}_`;
  const roles = { read: `pay_${run}_read`, initiate: `pay_${run}_initiate`, approve: `pay_${run}_approve`, admin: `pay_${run}_admin` };
  const urlVar = `TENURE_TEST_TARGET_URL_${process.pid}`;
  const deadVar = `TENURE_TEST_DEAD_URL_${process.pid}`;
  process.env[urlVar] = cluster.url;
  process.env[deadVar] = `postgres://postgres:x@127.0.0.1:1/postgres`;
  const admin = async <T>(work: (client: pg.Client) => Promise<T>): Promise<T> => {
    const client = new pg.Client({ connectionString: cluster.url });
    await client.connect();
    try { return await work(client); } finally { await client.end(); }
  };
  await admin((client) => client.query(Object.values(roles).map((r) => `CREATE ROLE ${r} NOLOGIN;`).join('\n')));
  return {
    cluster, prefix, roles, urlVar, deadVar, admin,
    memberships: () => admin(async (client) => (await client.query<{ m: string }>(
      `SELECT u.rolname || ' ' || g.rolname AS m FROM pg_auth_members a JOIN pg_roles g ON g.oid = a.roleid JOIN pg_roles u ON u.oid = a.member
        WHERE left(u.rolname, length($1)) = $1 ORDER BY 1`, [prefix])).rows.map((r) => r.m)),
    stop: async () => { delete process.env[urlVar]; delete process.env[deadVar]; await cluster.stop(); },
  };
};

export interface ProvisioningPolicyOptions {
  /** The payments connector points at nothing (every call fails). */
  deadTarget?: boolean;
  brake?: { share: number; minimum: number };
  reconcileMode?: 'report' | 'revoke';
  /** How often the worker reconciles payments, e.g. `1h`; default: only on demand. */
  reconcileEvery?: string;
  maxAttempts?: number;
  /** Another connector for payments (its groups named as the target's roles), in place of the PostgreSQL one. */
  connector?: Record<string, unknown>;
}

/** The lifecycle policy with a postgres-roles connector on payments; crm and lab stay manual. */
export const provisioningPolicy = (target: PgTarget, options: ProvisioningPolicyOptions = {}): string => {
  const doc = parse(readFileSync(LIFECYCLE_POLICY, 'utf8')) as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- a YAML document edited in place
  const payments = doc.systems.payments;
  payments.connector = options.connector
    ?? { type: 'postgres-roles', url: `env:${options.deadTarget ? target.deadVar : target.urlVar}`, role_prefix: target.prefix };
  payments.reconcile = { mode: options.reconcileMode ?? 'report', ...(options.reconcileEvery ? { every: options.reconcileEvery } : {}) };
  for (const [name, role] of Object.entries(target.roles)) payments.entitlements[name].target = role;
  doc.systems.crm.connector = { type: 'manual', provision_due: '2d', removal_due: '1d' };
  doc.provisioning = { brake: options.brake ?? { share: 0.1, minimum: 5 }, max_attempts: options.maxAttempts ?? 3 };
  return stringify(doc);
};

export const applyPolicyText = async (w: World, text: string): Promise<void> => {
  const dir = mkdtempSync(join(tmpdir(), 'tenure-policy-'));
  try {
    writeFileSync(join(dir, 'policy.yaml'), text);
    await applyPolicy(await w.as('ada'), { path: join(dir, 'policy.yaml') });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
};

export const buildProvisioningWorld = async (store: Store, target: PgTarget, options: ProvisioningPolicyOptions = {}, start?: string) => {
  const w = await buildWorld(store, start);
  await applyPolicyText(w, provisioningPolicy(target, options));
  return w;
};
