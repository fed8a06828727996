import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { sql } from 'drizzle-orm';
import pg from 'pg';
import { runProvisioningPass } from '../src/jobs/provisioning/index.js';
import { issueGrantCredential } from '../src/operations/issue-grant-credential.js';
import { revokeGrant } from '../src/operations/revoke-grant.js';
import { rawRows, type Store } from '../src/store/database.js';
import { refusedWith } from './support/assert.js';
import { BACKENDS, freshStore } from './support/backends.js';
import { grantThrough } from './support/flows.js';
import { applyPolicyText, provisioningPolicy, startPgTarget, type PgTarget } from './support/provisioning-world.js';
import { startService, type Service } from './support/service.js';

/**
 * Issue 15, observations 4 and 5, against a real scram PostgreSQL 15 target: the grantee takes a
 * password from Tenure (shown once, kept nowhere), signs in with it until the end, and the end
 * takes it away so that nothing, a later grant included, brings it back.
 */
let target: PgTarget;
before(async () => { target = await startPgTarget(); });
after(async () => { await target?.stop(); });

const signIn = async (account: string, password: string) => {
  const client = new pg.Client({ host: target.cluster.host, port: target.cluster.port, database: 'postgres', user: account, password });
  await client.connect();
  const { rows } = await client.query<{ me: string }>('SELECT current_user AS me');
  await client.end();
  return rows[0]!.me;
};
const storedPassword = async (account: string) => (await target.admin((c) => c.query<{ rolpassword: string | null; rolvaliduntil: Date | null }>(
  'SELECT rolpassword, rolvaliduntil FROM pg_authid WHERE rolname = $1', [account]))).rows[0];

/** Every row of every table of Tenure's database as text: where a kept password would be found, whatever its table. */
const everywhere = async (store: Store): Promise<string> => {
  const tables = await rawRows<{ table_name: string }>(store.db, sql`
    SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'`);
  const texts = await Promise.all(tables.map(async (t) => (await rawRows<{ row: string }>(store.db,
    sql`SELECT t::text AS row FROM ${sql.identifier(t.table_name)} t`)).map((r) => r.row).join('\n')));
  return texts.join('\n');
};

for (const backend of BACKENDS) {
  describe(`credentials Tenure hands out and takes back (${backend})`, () => {
    let s: Service;
    let store: Store;
    let grant: string;
    let first: string;
    const account = () => `${target.prefix}carl`;
    before(async () => {
      store = await freshStore(backend);
      s = await startService(store);
      await applyPolicyText(s.world, provisioningPolicy(target));
      grant = await grantThrough(s.world, 'carl', { entitlement: 'payments/read', justification: 'quarter close', duration: '7d' }, ['sam', 'olivia']);
    });
    after(async () => {
      await s?.app.close();
      await store?.close();
      await target.admin((c) => c.query(`DROP ROLE IF EXISTS ${pg.escapeIdentifier(account())}`));
    });

    it('before the target confirms the grant there is nothing to take', async () => {
      await refusedWith(issueGrantCredential(await s.world.as('carl'), { grant }), 'grant.credential_unavailable', 'grant');
    });

    it('the holder takes a password once over HTTP, signs in with psql\'s protocol, and it is valid until the grant\'s end', async () => {
      await runProvisioningPass(s.world.worker);
      const answer = await s.call('POST', `/v1/grants/${grant}/credential`, { as: 'carl', headers: { 'idempotency-key': 'cred-1' } });
      assert.equal(answer.statusCode, 201, answer.body);
      const issued = answer.json() as { account: string; target: string; password: string; validUntil: string };
      assert.match(issued.password, /^tnp_[A-Za-z0-9_-]{43}$/);
      assert.equal(issued.account, account());
      assert.equal(issued.target, `${target.cluster.host}:${target.cluster.port}/postgres`);
      first = issued.password;
      assert.equal(await signIn(account(), first), account());
      const stored = (await storedPassword(account()))!;
      assert.match(stored.rolpassword!, /^SCRAM-SHA-256\$4096:/, 'the target keeps a verifier');
      assert.equal(stored.rolvaliduntil!.getTime(), new Date(issued.validUntil).getTime());
      const replay = await s.call('POST', `/v1/grants/${grant}/credential`, { as: 'carl', headers: { 'idempotency-key': 'cred-1' } });
      assert.deepEqual([replay.json().password, replay.json().secretShownOnce], [null, true], 'a replay never shows it again');
    });

    it('Tenure keeps the password nowhere: not in the audit log, the idempotency store or any other table', async () => {
      const text = await everywhere(store);
      assert.ok(!text.includes(first), 'the password is in a table');
      const [event] = await rawRows<{ canonical: string }>(store.db, sql`SELECT canonical FROM audit_events WHERE action = 'grant.credential_issued'`);
      assert.match(event!.canonical, new RegExp(account()));
    });

    it('nobody else takes it: not the sponsor, not IAM, not a token of someone else', async () => {
      for (const who of ['sam', 'ivan', 'selma']) {
        const answer = await s.call('POST', `/v1/grants/${grant}/credential`, { as: who });
        assert.ok([403, 404].includes(answer.statusCode), `${who}: ${answer.statusCode}`);
      }
      await refusedWith(issueGrantCredential(await s.world.as('eve'), { grant }), 'grant.not_found', 'grant');
      assert.equal(await signIn(account(), first), account(), 'the holder\'s password still works: nothing was changed by the refusals');
    });

    it('taking it again replaces it: the earlier password stops working', async () => {
      const again = await issueGrantCredential(await s.world.as('carl'), { grant });
      await assert.rejects(signIn(account(), first), /password authentication failed/);
      assert.equal(await signIn(account(), again.password), account());
      first = again.password;
    });

    it('at the end the password is cleared in the target, and a later grant does not bring it back', async () => {
      await revokeGrant(await s.world.as('sam'), { grant, reason: 'quarter closed' });
      await runProvisioningPass(s.world.worker);
      assert.equal((await storedPassword(account()))?.rolpassword ?? null, null, 'no password (the role, which left nothing, is dropped)');
      await assert.rejects(signIn(account(), first));
      const [removed] = await rawRows<{ n: number }>(store.db, sql`SELECT count(*)::int AS n FROM audit_events WHERE action = 'grant.credential_removed'`);
      assert.equal(removed!.n, 1);
      const later = await grantThrough(s.world, 'carl', { entitlement: 'payments/read', justification: 'next quarter', duration: '7d' }, ['sam', 'olivia']);
      await runProvisioningPass(s.world.worker);
      await assert.rejects(signIn(account(), first), /password authentication failed/, 'the old password stays dead');
      assert.equal((await storedPassword(account()))!.rolpassword, null, 'the new grant starts without a password until one is taken');
      const fresh = await issueGrantCredential(await s.world.as('carl'), { grant: later });
      assert.notEqual(fresh.password, first);
      assert.equal(await signIn(account(), fresh.password), account());
    });

    it('a system whose connector hands out no credentials says so', async () => {
      const crm = await grantThrough(s.world, 'eve', { entitlement: 'crm/read', justification: 'customer calls', duration: '7d' }, ['sam', 'olivia']);
      await refusedWith(issueGrantCredential(await s.world.as('eve'), { grant: crm }), 'grant.credential_unsupported', 'grant');
    });
  });
}
