import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { loadSigningKey, trustedKeysFrom, type SigningKey } from '../src/audit/signing-key.js';
import { TenureError } from '../src/domain/errors.js';
import { approveRequest } from '../src/operations/approve-request.js';
import { createRequest } from '../src/operations/create-request.js';
import { verifyAudit } from '../src/operations/verify-audit.js';
import { writeAuditCheckpoint } from '../src/operations/write-checkpoint.js';
import { openPostgres, type Store } from '../src/store/database.js';
import { grantRuntimeRole } from '../src/store/runtime-role.js';
import { tempAnchor, tempDir } from './support/audit-fixture.js';
import { BACKENDS } from './support/backends.js';
import { postgresAdminUrl } from './support/postgres-server.js';
import { buildWorld, type World } from './support/world.js';

const BIN = fileURLToPath(new URL('../bin/tenure.mjs', import.meta.url));

const urlAs = (base: string, user: string, database: string): string => {
  const url = new URL(base);
  url.username = user;
  url.password = '';
  url.pathname = `/${database}`;
  return url.toString();
};

/** The error PostgreSQL raised, under drizzle's wrapper if there is one. */
const refusedWith = (pattern: RegExp) => (error: unknown): boolean => {
  const cause = (error as { cause?: unknown }).cause ?? error;
  assert.match(String((cause as Error).message), pattern);
  return true;
};

describe('serve and worker as a runtime role on the PostgreSQL server', { skip: !BACKENDS.includes('postgres') }, () => {
  const suffix = randomBytes(4).toString('hex');
  const owner = `tenure_owner_${suffix}`;
  const runtime = `tenure_rt_${suffix}`;
  const database = `tenure_roles_${suffix}`;
  let admin: pg.Client;
  let ownerUrl: string;
  let runtimeUrl: string;
  let store: Store;
  let w: World;
  let key: SigningKey;
  const anchor = tempAnchor();

  before(async () => {
    const base = await postgresAdminUrl();
    admin = new pg.Client({ connectionString: base });
    await admin.connect();
    await admin.query(`CREATE ROLE ${owner} LOGIN`);
    await admin.query(`CREATE ROLE ${runtime} LOGIN`);
    await admin.query(`CREATE DATABASE ${database} OWNER ${owner}`);
    ownerUrl = urlAs(base, owner, database);
    runtimeUrl = urlAs(base, runtime, database);
    key = loadSigningKey({ env: {}, dataDir: tempDir('audit-key'), create: true })!;
  });

  after(async () => {
    await store?.close();
    await admin.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
    await admin.query(`DROP ROLE IF EXISTS ${runtime}`);
    await admin.query(`DROP ROLE IF EXISTS ${owner}`);
    await admin.end();
  });

  it('tenure db grant-runtime migrates as the owner and refuses to hand the owner itself to the runtime', () => {
    const env = { ...process.env, DATABASE_URL: runtimeUrl, TENURE_MIGRATION_DATABASE_URL: ownerUrl, TENURE_DATA_DIR: tempDir('roles-cli') };
    const granted = spawnSync(process.execPath, [BIN, '--json', 'db', 'grant-runtime', runtime], { env, encoding: 'utf8', timeout: 120_000 });
    assert.equal(granted.status, 0, granted.stderr);
    assert.deepEqual(JSON.parse(granted.stdout), { role: runtime, owner });
    const refused = spawnSync(process.execPath, [BIN, 'db', 'grant-runtime', owner], { env, encoding: 'utf8', timeout: 120_000 });
    assert.equal(refused.status, 2);
    assert.match(refused.stderr, /is a superuser or a member of the owner/);
  });

  it('the runtime role runs real use cases: people, policy, a request approved twice, a signed checkpoint, a clean verify', async () => {
    store = await openPostgres(runtimeUrl, { migrationUrl: ownerUrl });
    w = await buildWorld(store);
    const request = await createRequest(await w.as('carl'), { entitlement: 'payments/read', justification: 'month-end', duration: '2d' });
    await approveRequest(await w.as('sam'), { request: request.id });
    await approveRequest(await w.as('olivia'), { request: request.id });
    const signed = await writeAuditCheckpoint(w.worker, key, anchor);
    assert.equal(signed.written, true);
    const verified = await verifyAudit(await w.as('audrey'), { trustedKeys: trustedKeysFrom([key.publicKey]), anchor, unsignedGraceMs: 30_000 });
    assert.equal(verified.ok, true, verified.reason ?? '');
    assert.equal(verified.anchoredSeq, signed.seq);
  });

  it('the runtime role can neither disable the audit triggers nor update, delete or truncate the audit tables', async () => {
    const client = new pg.Client({ connectionString: runtimeUrl });
    await client.connect();
    try {
      const [before] = (await client.query<{ n: string }>('SELECT count(*) AS n FROM audit_events')).rows;
      const attempts: [string, RegExp][] = [
        ['ALTER TABLE audit_events DISABLE TRIGGER audit_events_append_only', /must be owner/],
        ['ALTER TABLE audit_events DISABLE TRIGGER ALL', /must be owner/],
        ['ALTER TABLE audit_checkpoints DISABLE TRIGGER audit_checkpoints_append_only', /must be owner/],
        ['SET session_replication_role = replica', /permission denied/],
        ['UPDATE audit_events SET identity_id = NULL', /permission denied/],
        ['DELETE FROM audit_events WHERE seq > 3', /permission denied/],
        ['TRUNCATE audit_events', /permission denied/],
        ['UPDATE audit_checkpoints SET key_id = \'other\'', /permission denied/],
        ['DELETE FROM audit_checkpoints', /permission denied/],
        ['TRUNCATE audit_checkpoints', /permission denied/],
        ['DELETE FROM audit_head', /permission denied/],
        ['DROP TABLE audit_events', /must be owner/],
        ['ALTER TABLE audit_events RENAME TO audit_events_old', /must be owner/],
        ['CREATE OR REPLACE FUNCTION tenure_audit_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NULL; END; $$', /must be owner|permission denied/],
      ];
      for (const [statement, refusal] of attempts) {
        await assert.rejects(client.query(statement), refusedWith(refusal), statement);
      }
      const [after] = (await client.query<{ n: string }>('SELECT count(*) AS n FROM audit_events')).rows;
      assert.equal(after!.n, before!.n);
    } finally {
      await client.end();
    }
    const verified = await verifyAudit(await w.as('audrey'), { trustedKeys: trustedKeysFrom([key.publicKey]), anchor, unsignedGraceMs: 30_000 });
    assert.equal(verified.ok, true, verified.reason ?? '');
  });

  it('grant-runtime refuses a superuser and an unknown role', async () => {
    const ownerStore = await openPostgres(ownerUrl, { max: 1 });
    try {
      const invalid = (error: unknown) => error instanceof TenureError && error.code === 'input.invalid';
      await assert.rejects(grantRuntimeRole(ownerStore.db, 'postgres'), invalid);
      await assert.rejects(grantRuntimeRole(ownerStore.db, `nobody_${suffix}`), invalid);
      await assert.rejects(grantRuntimeRole(ownerStore.db, 'x"; DROP TABLE audit_events; --'), invalid);
    } finally {
      await ownerStore.close();
    }
  });
});
