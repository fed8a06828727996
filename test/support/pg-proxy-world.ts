import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import pg from 'pg';
import { DecisionService } from '../../src/decision/service.js';
import { runProvisioningPass } from '../../src/jobs/provisioning/index.js';
import { createToken } from '../../src/operations/create-token.js';
import { loadPgProxyConfig } from '../../src/proxy/postgres/config.js';
import { PgProxyServer } from '../../src/proxy/postgres/server.js';
import { rawRows, type Store } from '../../src/store/database.js';
import { sql } from 'drizzle-orm';
import { freshStore, type Backend } from './backends.js';
import { grantThrough } from './flows.js';
import { createScratchDatabase } from './postgres-server.js';
import { applyPolicyText, provisioningPolicy, type PgTarget } from './provisioning-world.js';
import { buildWorld, type World } from './world.js';

/**
 * A PostgreSQL target on the shared test server (a scratch database, roles named for this run),
 * Tenure's world with the payments system served through the proxy, and the proxy itself.
 */
export interface ProxyTarget { url: string; prefix: string; roles: PgTarget['roles']; urlVar: string; admin<T>(work: (c: pg.Client) => Promise<T>): Promise<T>; drop(): Promise<void> }

/** On a scratch database of the shared test server, or on the database of `url` (a private cluster the caller stops). */
export const startProxyTarget = async (url?: string): Promise<ProxyTarget> => {
  const scratch = url ? { url, drop: async () => undefined } : await createScratchDatabase();
  const run = `x${process.pid.toString(36)}${Date.now().toString(36).slice(-4)}`;
  const roles = { read: `${run}_read`, initiate: `${run}_initiate`, approve: `${run}_approve`, admin: `${run}_admin` };
  const urlVar = `TENURE_TEST_PROXY_TARGET_${process.pid}`;
  process.env[urlVar] = scratch.url;
  const admin = async <T>(work: (c: pg.Client) => Promise<T>): Promise<T> => {
    const client = new pg.Client({ connectionString: scratch.url });
    await client.connect();
    try { return await work(client); } finally { await client.end(); }
  };
  await admin((c) => c.query(`${Object.values(roles).map((r) => `CREATE ROLE ${r} NOLOGIN;`).join('\n')}
    CREATE TABLE ledger (id int, amount int); INSERT INTO ledger VALUES (1, 5), (2, 50), (3, 500);
    GRANT SELECT ON ledger TO ${roles.read};`));
  const prefix = `${run}_p_`;
  return {
    url: scratch.url, prefix, roles, urlVar, admin,
    drop: async () => {
      await scratch.drop();
      if (url) { delete process.env[urlVar]; return; }
      const base = new URL(scratch.url); base.pathname = '/postgres';
      const client = new pg.Client({ connectionString: base.toString() });
      await client.connect();
      const { rows } = await client.query<{ rolname: string }>('SELECT rolname FROM pg_roles WHERE rolname LIKE $1', [`${run}\\_%`]);
      for (const { rolname } of rows) await client.query(`DROP ROLE IF EXISTS ${pg.escapeIdentifier(rolname)}`);
      await client.end();
      delete process.env[urlVar];
    },
  };
};

/** The lifecycle policy with payments on the target, served through the proxy. */
export const applyProxyPolicy = async (
  world: World, target: ProxyTarget, parameters: 'redact' | 'keep', upstreamVar?: string, addresses?: string[],
): Promise<void> => {
  const proxy = { parameters, ...(upstreamVar ? { upstream: `env:${upstreamVar}` } : {}), ...(addresses ? { addresses } : {}) };
  const connector = { type: 'postgres-roles', url: `env:${target.urlVar}`, role_prefix: target.prefix, proxy };
  await applyPolicyText(world, provisioningPolicy({ ...target, deadVar: target.urlVar } as unknown as PgTarget, { connector }));
};

export interface ProxyWorld { world: World; decision: DecisionService; proxy: PgProxyServer; port: number; stop(): Promise<void> }

export const startProxyWorld = async (store: Store, target: ProxyTarget, options: { upstreamVar?: string } = {}): Promise<ProxyWorld> => {
  const world = await buildWorld(store);
  await applyProxyPolicy(world, target, 'redact', options.upstreamVar);
  const decision = await DecisionService.start({ store, clock: world.clock });
  const errors: Error[] = [];
  const proxy = await PgProxyServer.start({
    ctx: { store, clock: world.clock, actor: { id: undefined, channel: 'system' } }, decision,
    config: { ...loadPgProxyConfig({}), handshakeTimeoutMs: 1000, maxMessageBytes: 64 * 1024 }, host: '127.0.0.1', port: 0,
    onError: (error) => errors.push(error),
  });
  return {
    world, decision, proxy, port: proxy.address().port,
    stop: async () => {
      await proxy.stop();
      await decision.stop();
      if (errors.length > 0) throw new AggregateError(errors, 'the proxy reported errors');
    },
  };
};

/** A provisioned grant of `entitlement` for carl. */
export const provisionedGrant = async (w: World, entitlement = 'payments/read'): Promise<string> => {
  const grant = await grantThrough(w, 'carl', { entitlement, justification: 'quarter close', duration: '7d' }, ['sam', 'olivia']);
  await runProvisioningPass(w.worker);
  return grant;
};

export const tokenOf = async (w: World, handle: string): Promise<string> =>
  (await createToken(await w.as(handle), { name: `proxy-${handle}-${Date.now()}`, scopes: ['read'] })).secret;

const run = promisify(execFile);

/** psql through the proxy; resolves to its output, or rejects with its stderr. */
export const psqlArgs = (port: number, user: string, database: string, commands: string[]): string[] =>
  [`host=127.0.0.1 port=${port} user=${user} dbname=${database} connect_timeout=5`, '-X', '-A', '-t', '-v', 'ON_ERROR_STOP=1',
    ...commands.flatMap((c) => ['-c', c])];

export const psql = async (port: number, user: string, database: string, password: string, ...commands: string[]): Promise<string> => {
  try {
    return (await run('psql', psqlArgs(port, user, database, commands), { env: { ...process.env, PGPASSWORD: password } })).stdout;
  } catch (error) {
    throw new Error((error as { stderr?: string }).stderr ?? String(error));
  }
};

export interface SessionRow { id: string; end_reason: string | null; recording_sha256: string | null; statement_count: number | null; ended_at: Date | null; role: string; account: string }

export const sessionsOf = (store: Store) => rawRows<SessionRow>(store.db, sql`
  SELECT id, end_reason, recording_sha256, statement_count, ended_at, role, account FROM proxy_sessions ORDER BY started_at, id`);

/** Waits (for a condition, not for a time) until every session has ended. */
export const allEnded = async (store: Store): Promise<SessionRow[]> => {
  for (;;) {
    const rows = await sessionsOf(store);
    if (rows.every((r) => r.ended_at !== null)) return rows;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
};

export const recordsOf = async (store: Store, session: string): Promise<string[]> => (await rawRows<{ record: string }>(store.db,
  sql`SELECT record FROM proxy_statements WHERE session_id = ${session} ORDER BY seq`)).map((r) => r.record);

export const endedEvent = async (store: Store, session: string) => (await rawRows<{ canonical: string }>(store.db,
  sql`SELECT canonical FROM audit_events WHERE action = 'proxy_session.ended' AND subject_id = ${session}`))[0]?.canonical;

export interface CarlWithGrant { store: Store; p: ProxyWorld; token: string; stop(): Promise<void> }

/** A fresh store on `backend`, the proxy, carl's token and a provisioned grant of payments/read; stop() undoes all of it. */
export const carlWithGrant = async (backend: Backend, target: ProxyTarget): Promise<CarlWithGrant> => {
  const store = await freshStore(backend);
  const p = await startProxyWorld(store, target);
  const token = await tokenOf(p.world, 'carl');
  await provisionedGrant(p.world);
  return {
    store, p, token,
    stop: async () => {
      await p.stop();
      await store.close();
      await target.admin((c) => c.query(`DROP OWNED BY ${target.prefix}carl`).catch(() => undefined));
    },
  };
};
