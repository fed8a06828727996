/**
 * Removal at the end, measured from outside: a real `tenure worker` process (pinned to its own core)
 * against a real PostgreSQL roles target, with grants ending over a spread of time. The lag of each
 * grant is from its end to the moment the worker committed its removal, which it does only after
 * reading the target back and finding the membership gone (`provisioning_confirmed_at`).
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { cpus } from 'node:os';
import { fileURLToPath } from 'node:url';
import { sql } from 'drizzle-orm';
import { rawRows, type Store } from '../src/store/database.js';
import { auditKeyEnv } from '../test/support/audit-key.js';
import { createScratchDatabase } from '../test/support/postgres-server.js';
import { openPostgres } from '../src/store/database.js';
import { buildProvisioningWorld, startPgTarget, type PgTarget } from '../test/support/provisioning-world.js';
import type { BenchResult } from './report.js';

const BIN = fileURLToPath(new URL('../bin/tenure.mjs', import.meta.url));

/**
 * n people `rl<i>`, each with payments/read for a day. Through the worker, the insert queues their
 * provisioning. Direct (for sizes where provisioning them one by one would take the bench's hour),
 * the grants are written as provisioned, without their triggers, and the roles made in the target
 * in one statement: what is measured is the removal, and that still goes through the worker.
 */
const seed = async (store: Store, target: PgTarget, n: number, direct: boolean) => {
  await store.db.execute(sql`
    INSERT INTO identities (id, handle, display_name, kind, status, created_at, updated_at)
    SELECT gen_random_uuid(), 'rl' || i, 'Bench ' || i, 'employee', 'active', now(), now() FROM generate_series(1, ${n}) i`);
  await store.db.transaction(async (tx) => {
    if (direct) await tx.execute(sql`SET LOCAL session_replication_role = replica`);
    await tx.execute(sql`
      INSERT INTO grants (id, identity_id, entitlement_id, origin, starts_at, ends_at, status, provisioning_state, created_at)
      SELECT gen_random_uuid(), i.id, e.id, 'birthright', now(), now() + interval '1 day', 'active', ${direct ? 'provisioned' : 'pending'}, now()
        FROM identities i, (SELECT id FROM entitlements WHERE key = 'payments/read') e WHERE i.handle LIKE 'rl%'`);
  });
  if (!direct) return;
  await target.admin((client) => client.query(`DO $$ BEGIN FOR i IN 1..${n} LOOP
    EXECUTE format('CREATE ROLE %I LOGIN VALID UNTIL ''infinity''', '${target.prefix}rl' || i);
    EXECUTE format('GRANT %I TO %I', '${target.roles.read}', '${target.prefix}rl' || i);
  END LOOP; END $$`));
};

/**
 * Once all are provisioned, their ends move to `firstEnd + i * spreadMs / n`. Without triggers (a
 * superuser's replica session): a changed end would otherwise queue a provision job for each, which
 * is not what is measured. The worker finds the new ends within its interval.
 */
const spreadEnds = async (store: Store, n: number, firstEnd: Date, spreadMs: number) => {
  await store.db.transaction(async (tx) => {
    await tx.execute(sql`SET LOCAL session_replication_role = replica`);
    await tx.execute(sql`UPDATE grants g SET ends_at = ${firstEnd.toISOString()}::timestamptz
        + (substr(i.handle, 3)::int * ${spreadMs / n}::float8) * interval '1 millisecond'
      FROM identities i WHERE i.id = g.identity_id AND i.handle LIKE 'rl%'`);
  });
};

const count = async (store: Store, state: string) => (await rawRows<{ n: number }>(store.db, sql`
  SELECT count(*)::int AS n FROM grants g JOIN identities i ON i.id = g.identity_id WHERE i.handle LIKE 'rl%' AND g.provisioning_state = ${state}`))[0]!.n;

const waitFor = async (what: string, done: () => Promise<boolean>, boundMs: number) => {
  const give = Date.now() + boundMs;
  while (!(await done())) {
    if (Date.now() > give) throw new Error(`removal bench: ${what} did not happen within ${boundMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
};

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;

export const benchRemovalLag = async (n: number, spreadMs: number): Promise<BenchResult[]> => {
  const scratch = await createScratchDatabase();
  const store = await openPostgres(scratch.url);
  try {
    return await measureLag(store, scratch.url, n, spreadMs);
  } finally {
    await store.close();
    await scratch.drop();
  }
};

const measureLag = async (store: Store, databaseUrl: string, n: number, spreadMs: number): Promise<BenchResult[]> => {
  const target = await startPgTarget();
  await buildProvisioningWorld(store, target, { brake: { share: 1, minimum: 10_000_000 } }, new Date().toISOString());
  const direct = n > 2_000;
  await seed(store, target, n, direct);
  const core = cpus().length > 1 ? ['taskset', '-c', '1'] : [];
  const child = spawn(core[0] ?? process.execPath, [...core.slice(1), ...(core.length ? [process.execPath] : []), BIN, 'worker'], {
    env: { ...process.env, ...auditKeyEnv(), DATABASE_URL: databaseUrl, TENURE_ACTOR: '', TENURE_WEBHOOK_KEY: randomBytes(32).toString('base64') },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => { stderr = (stderr + String(chunk)).slice(-4000); });
  const exited = new Promise<never>((_, reject) => child.once('exit', (code) => reject(new Error(`the worker exited (${code}): ${stderr}`))));
  exited.catch(() => undefined);
  const alive = (what: string, done: () => Promise<boolean>, boundMs: number) => Promise.race([waitFor(what, done, boundMs), exited]);
  try {
    await alive('provisioning', async () => (await count(store, 'provisioned')) === n, 60_000 + n * 100);
    await spreadEnds(store, n, new Date(Date.now() + 10_000), spreadMs);
    await alive('removal', async () => (await count(store, 'deprovisioned')) === n, 60_000 + spreadMs + n * 50);
  } finally {
    if (child.exitCode === null) {
      const gone = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await gone;
    }
    await target.stop();
  }
  const lags = (await rawRows<{ lag: number }>(store.db, sql`
    SELECT extract(epoch FROM (g.provisioning_confirmed_at - g.ends_at)) * 1000 AS lag
      FROM grants g JOIN identities i ON i.id = g.identity_id WHERE i.handle LIKE 'rl%'`)).map((r) => Number(r.lag)).sort((a, b) => a - b);
  const name = `grant end → removal read back, ${n.toLocaleString('en-US')} ending over ${spreadMs / 1000} s${direct ? ' (seeded in the target)' : ''}`;
  return ([['p50', 50], ['p95', 95], ['max', 100]] as const).map(([label, p]) => ({
    name: `${name}, ${label}`, backend: 'postgres', n, medianMs: percentile(lags, p), perSecond: Number.NaN,
    target: label === 'p95' ? '≤ 2,000 ms' : label === 'max' ? '≤ 5,000 ms' : '',
  }));
};

