import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { recordingSha256 } from '../src/domain/proxy-recording.js';
import { runLifecycleTick } from '../src/jobs/lifecycle.js';
import { runProvisioningPass } from '../src/jobs/provisioning/index.js';
import { changeIdentityStatus } from '../src/operations/change-identity-status.js';
import { revokeGrant } from '../src/operations/revoke-grant.js';
import { showProxySession } from '../src/operations/show-proxy-session.js';
import { sql } from 'drizzle-orm';
import { rawRows, type Store } from '../src/store/database.js';
import { webhookEventsOf, type AuditRow } from '../src/webhooks/events.js';
import { BACKENDS, freshStore } from './support/backends.js';
import {
  allEnded, applyProxyPolicy, endedEvent, provisionedGrant, psql, psqlArgs, recordsOf, sessionsOf, startProxyTarget, startProxyWorld, tokenOf,
  type ProxyTarget, type ProxyWorld,
} from './support/pg-proxy-world.js';

/**
 * Issue 18, the PostgreSQL half: real clients (psql, node-postgres) through Tenure's proxy to the
 * real PostgreSQL server, signed in as themselves, let through only during their grant, recorded,
 * and cut off when the grant is revoked or ends.
 */
let target: ProxyTarget;
before(async () => { target = await startProxyTarget(); });
after(async () => { await target?.drop(); });

const client = (port: number, user: string, password: string, database = 'payments/read') =>
  new pg.Client({ host: '127.0.0.1', port, user, password, database });

for (const backend of BACKENDS) {
  describe(`the PostgreSQL proxy (${backend})`, () => {
    let store: Store;
    let p: ProxyWorld;
    let token: string;
    let grant: string;
    /** Sessions ended since the last call (the world's clock stands still, so start times tie). */
    const seen = new Set<string>();
    const newSessions = async (known: Set<string>) => {
      const fresh = (await allEnded(store)).filter((s) => !known.has(s.id));
      for (const s of fresh) known.add(s.id);
      return fresh;
    };
    before(async () => {
      store = await freshStore(backend);
      p = await startProxyWorld(store, target);
      token = await tokenOf(p.world, 'carl');
    });
    after(async () => {
      await p?.stop();
      await store?.close();
      await target.admin((c) => c.query(`DROP OWNED BY ${target.prefix}carl`).catch(() => undefined));
    });

    it('refuses carl before he holds a grant, and records no session', async () => {
      await assert.rejects(psql(p.port, 'carl', 'payments/read', token, 'SELECT 1'), /holds no live grant of payments\/read/);
      assert.deepEqual(await sessionsOf(store), []);
    });

    it('lets carl in with psql during his grant as the grant\'s role, and records his statements with row counts under the audited digest', async () => {
      grant = await provisionedGrant(p.world);
      await newSessions(seen);
      const out = await psql(p.port, 'carl', 'payments/read', token, 'SELECT id, amount FROM ledger ORDER BY id', 'SELECT current_user, session_user');
      assert.equal(out, `1|5\n2|50\n3|500\n${target.roles.read}|${target.prefix}carl\n`);
      const [session] = await newSessions(seen);
      assert.equal(session!.end_reason, 'client_closed');
      assert.equal(session!.role, target.roles.read);
      const records = await recordsOf(store, session!.id);
      const statements = records.map((r) => JSON.parse(r) as { text: string; tags: string[]; rows: number; protocol: string });
      const select = statements.find((s) => s.text.startsWith('SELECT id, amount'));
      assert.deepEqual({ tags: select?.tags, rows: select?.rows, protocol: select?.protocol }, { tags: ['SELECT 3'], rows: 3, protocol: 'simple' });
      assert.equal(session!.statement_count, records.length);
      assert.equal(session!.recording_sha256, recordingSha256(records));
      assert.ok((await endedEvent(store, session!.id))?.includes(session!.recording_sha256!), 'the ended event carries the digest');
      assert.equal((await showProxySession(await p.world.as('selma'), { session: session!.id })).verified, true, 'read back, verified against the chain');
      const rows = await rawRows<AuditRow>(store.db, sql`SELECT seq, occurred_at AS "occurredAt", action, subject_id AS "subjectId", canonical
        FROM audit_events WHERE subject_id = ${session!.id} ORDER BY seq`);
      const hooks = await webhookEventsOf(store.db, rows, new Set(['session.started', 'session.ended']));
      assert.deepEqual(hooks.map((h) => [h.payload.type, h.payload.data.person, h.payload.data.entitlement, h.payload.data.recordingSha256 ?? null]), [
        ['session.started', 'carl', 'payments/read', null], ['session.ended', 'carl', 'payments/read', session!.recording_sha256],
      ]);
    });

    it('records the extended protocol of node-postgres with its parameters redacted by default', async () => {
      const c = client(p.port, 'carl', token);
      await c.connect();
      const { rows } = await c.query('SELECT id FROM ledger WHERE amount > $1 ORDER BY id', [10]);
      await assert.rejects(c.query('SELECT * FROM no_such_table WHERE id = $1', [1]), /no_such_table/);
      await c.end();
      assert.deepEqual(rows, [{ id: 2 }, { id: 3 }]);
      const [session] = await newSessions(seen);
      const records = (await recordsOf(store, session!.id)).map((r) => JSON.parse(r) as Record<string, unknown>);
      assert.deepEqual(records.map((r) => [r.protocol, r.text, r.params, r.tags, r.rows, (r.error as { code: string } | null)?.code ?? null]), [
        ['extended', 'SELECT id FROM ledger WHERE amount > $1 ORDER BY id', { redacted: 1 }, ['SELECT 2'], 2, null],
        ['extended', 'SELECT * FROM no_such_table WHERE id = $1', { redacted: 1 }, [], 0, '42P01'],
      ]);
    });

    it('keeps parameters in the recording when the system\'s policy says keep', async () => {
      await applyProxyPolicy(p.world, target, 'keep');
      const c = client(p.port, 'carl', token);
      await c.connect();
      await c.query('SELECT count(*) FROM ledger WHERE amount > $1 OR $2::int IS NOT NULL', [10, null]);
      await c.end();
      await applyProxyPolicy(p.world, target, 'redact');
      const [session] = await newSessions(seen);
      const [record] = (await recordsOf(store, session!.id)).map((r) => JSON.parse(r) as { params: unknown; rows: number });
      assert.deepEqual(record, { ...record, params: ['10', null], rows: 1 });
    });

    it('keeps several sessions apart, each with its own recording', async () => {
      const clients = await Promise.all(Array.from({ length: 4 }, async (_, i) => {
        const c = client(p.port, 'carl', token);
        await c.connect();
        await c.query(`SELECT ${i} AS n, count(*) FROM ledger`);
        return c;
      }));
      assert.equal(p.proxy.openSessions(), 4);
      await Promise.all(clients.map((c) => c.end()));
      const sessions = await newSessions(seen);
      assert.equal(sessions.length, 4);
      const texts = await Promise.all(sessions.map(async (s) => (await recordsOf(store, s.id)).map((r) => (JSON.parse(r) as { text: string }).text)));
      assert.deepEqual(texts.flat().sort(), [0, 1, 2, 3].map((i) => `SELECT ${i} AS n, count(*) FROM ledger`));
    });

    it('relays psql\'s cancel request (Ctrl-C) to the target, and records the statement as cancelled', async () => {
      const child = spawn('psql', psqlArgs(p.port, 'carl', 'payments/read', ['SELECT pg_sleep(60) AS cancel_me']),
        { env: { ...process.env, PGPASSWORD: token }, stdio: ['ignore', 'ignore', 'pipe'] });
      let stderr = '';
      child.stderr.on('data', (chunk: Buffer) => { stderr += chunk.toString(); });
      const exited = new Promise((resolve) => child.on('exit', resolve));
      const running = "SELECT 1 FROM pg_stat_activity WHERE state = 'active' AND query LIKE 'SELECT pg_sleep(60) AS cancel_me%'";
      while (!(await target.admin((c) => c.query(running))).rowCount) await new Promise((resolve) => setTimeout(resolve, 20));
      child.kill('SIGINT');
      await exited;
      assert.match(stderr, /canceling statement due to user request/);
      const [session] = await newSessions(seen);
      const [record] = (await recordsOf(store, session!.id)).map((r) => JSON.parse(r) as { error: { code: string } | null });
      assert.equal(record!.error?.code, '57014');
    });

    it('cuts an open session when the grant is revoked', async () => {
      const c = client(p.port, 'carl', token);
      const closed = new Promise<Error>((resolve) => c.on('error', resolve));
      await c.connect();
      await c.query('SELECT 1');
      await revokeGrant(await p.world.as('carl'), { grant, reason: 'done early' });
      assert.match((await closed).message, /your grant was revoked/);
      assert.equal((await newSessions(seen))[0]!.end_reason, 'grant_revoked');
      await runProvisioningPass(p.world.worker);
    });
    it('warns the client before the grant\'s end, then ends the session at the end and refuses a new one', async () => {
      await provisionedGrant(p.world);
      const c = client(p.port, 'carl', token);
      const notices: string[] = [];
      c.on('notice', (n) => notices.push(n.message ?? ''));
      const closed = new Promise<Error>((resolve) => c.on('error', resolve));
      await c.connect();
      p.world.clock.advance(7 * 24 * 3_600_000 - 30_000);
      await c.query('SELECT 1');
      while (notices.length === 0) await new Promise((resolve) => setTimeout(resolve, 20));
      assert.match(notices[0]!, /your grant of payments\/read ends at/);
      p.world.clock.advance(60_000);
      assert.match((await closed).message, /your grant has ended/);
      assert.equal((await newSessions(seen))[0]!.end_reason, 'grant_ended');
      await assert.rejects(psql(p.port, 'carl', 'payments/read', token, 'SELECT 1'), /holds no live grant/);
    });

    it('cuts an open session when its holder is suspended', async () => {
      await runLifecycleTick(p.world.worker);
      await runProvisioningPass(p.world.worker);
      await provisionedGrant(p.world);
      const c = client(p.port, 'carl', token);
      const closed = new Promise<Error>((resolve) => c.on('error', resolve));
      await c.connect();
      await changeIdentityStatus(await p.world.as('ada'), { identity: 'carl', status: 'suspended', reason: 'investigation' });
      assert.match((await closed).message, /your account is no longer active/);
      assert.equal((await newSessions(seen))[0]!.end_reason, 'identity_inactive');
    });

  });
}
